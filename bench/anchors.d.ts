// express-session ships no types, and @types/express-session would redeclare req.session for the whole project.
declare module 'express-session';
