import { SyncError } from "../errors";

/** 2 MiB: a user object can carry a data-URL avatar of up to 1,000,000 characters. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Reads a request body as raw bytes, refusing more than `limit` bytes without reading them all:
 * first by the declared Content-Length, then by counting while streaming.
 */
export async function readBodyLimited(request: Request, limit: number = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) throw new SyncError("payload_too_large", `content-length ${declared}`);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new SyncError("payload_too_large", `more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
