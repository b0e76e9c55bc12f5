/**
 * unisession's cache in every benchmark contestant: sized for the benchmark's working set
 * (1000 sessions of up to 20 KB, or 200 of 200 KB, estimated at 2 bytes per character), as an
 * app would size it for its own. The default (32 MiB) holds about 16,000 sessions of 2 KB.
 */
export const CACHE = { maxBytes: 512 * 1024 * 1024 };
