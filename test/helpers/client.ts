/** A tiny HTTP client with one cookie jar, as a browser would keep for one site. */
export class Client {
  cookie = '';
  constructor(private readonly base: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie && !headers.has('cookie')) headers.set('cookie', this.cookie);
    const response = await fetch(this.base + path, { redirect: 'manual', ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      this.cookie = /expires=Thu, 01 Jan 1970/i.test(line) || pair.endsWith('=') ? '' : pair;
    }
    return response;
  }

  async json<T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<T> {
    const response = await this.request(path, init);
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** The session id in the jar (without signature). */
  get sessionId(): string | undefined {
    const value = this.cookie.split('=')[1];
    return value ? value.split('.')[0] : undefined;
  }
}
