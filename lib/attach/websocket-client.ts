/**
 * A small WebSocket client (RFC 6455) over `node:http`'s upgrade, enough to speak the inspector
 * protocol to a Node process on 127.0.0.1: text messages of any size (fragmented or not), ping →
 * pong, the closing handshake. Node 22+ has a global `WebSocket` but Node 20 has none without a
 * flag, and the subset the inspector needs is small, so hangwatch carries no dependency for it.
 * No extensions (permessage-deflate) are negotiated, so frames arrive uncompressed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export interface WebSocketHandlers {
  onMessage(text: string): void;
  /** Called once, when the connection ends for any reason (`error` when it broke). */
  onClose(error?: Error): void;
}

export class WebSocketClient {
  readonly #socket: Socket;
  readonly #handlers: WebSocketHandlers;
  /** Received bytes not yet parsed into frames (a list, so large frames are copied once). */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes the frame being received needs before it can be parsed (skips re-parsing while it arrives). */
  #needed = 0;
  /** Payloads of the fragments of the message being received. */
  #fragments: Buffer[] = [];
  #closed = false;

  private constructor(socket: Socket, head: Buffer, handlers: WebSocketHandlers) {
    this.#socket = socket;
    this.#handlers = handlers;
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.#receive(data));
    socket.on('error', (err) => this.#end(err));
    socket.on('close', () => this.#end(new Error('the connection closed')));
    if (head.length > 0) this.#receive(head);
  }

  /** Open a connection to a `ws://` URL; rejects when the server refuses the upgrade or does not answer in `timeoutMs`. */
  static connect(url: string, handlers: WebSocketHandlers, timeoutMs: number): Promise<WebSocketClient> {
    const target = new URL(url);
    if (target.protocol !== 'ws:') return Promise.reject(new Error(`not a ws:// URL: ${url}`));
    const key = randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
      const req = request({
        host: target.hostname.replace(/^\[|\]$/g, ''),
        port: Number(target.port || 80),
        path: `${target.pathname}${target.search}`,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': key,
        },
        timeout: timeoutMs,
      });
      req.on('timeout', () => req.destroy(new Error(`no answer to the WebSocket upgrade within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        reject(new Error(`the server refused the WebSocket upgrade (HTTP ${res.statusCode})`));
      });
      req.on('upgrade', (res, socket, head) => {
        const expected = createHash('sha1')
          .update(key + ACCEPT_GUID)
          .digest('base64');
        if (res.headers['sec-websocket-accept'] !== expected) {
          socket.destroy();
          reject(new Error('the server answered the WebSocket upgrade with a wrong Sec-WebSocket-Accept'));
          return;
        }
        socket.setTimeout(0);
        resolve(new WebSocketClient(socket, head, handlers));
      });
      req.end();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Send one text message (client frames are masked, as the protocol requires). */
  send(text: string): void {
    if (this.#closed) throw new Error('the WebSocket is closed');
    this.#socket.write(frame(OP_TEXT, Buffer.from(text, 'utf8')));
  }

  /** Start the closing handshake and end the connection; idempotent. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#socket.end(frame(OP_CLOSE, Buffer.from([0x03, 0xe8])));
    } catch {
      // the socket already broke: #end runs from its 'close' event
    }
    this.#end();
  }

  #end(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroySoon?.();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
    this.#handlers.onClose(error);
  }

  #receive(data: Buffer): void {
    this.#chunks.push(data);
    this.#buffered += data.length;
    if (this.#buffered < this.#needed) return;
    while (!this.#closed) {
      const header = this.#peek(2);
      if (!header) return;
      const b0 = header[0] as number;
      const b1 = header[1] as number;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        const ext = this.#peek(4);
        if (!ext) return;
        length = ext.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        const ext = this.#peek(10);
        if (!ext) return;
        length = Number(ext.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const total = offset + (masked ? 4 : 0) + length;
      const whole = this.#peek(total);
      if (!whole) return;
      this.#consume(total);
      let payload = whole.subarray(offset + (masked ? 4 : 0), total);
      if (masked) {
        const mask = whole.subarray(offset, offset + 4);
        payload = Buffer.from(payload);
        for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
      }
      this.#frame((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
  }

  #frame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) {
      if (!this.#closed) this.#socket.write(frame(OP_PONG, payload));
      return;
    }
    if (opcode === OP_PONG) return;
    if (opcode === OP_CLOSE) {
      this.close();
      return;
    }
    if (opcode !== OP_TEXT && opcode !== OP_BINARY && opcode !== OP_CONTINUATION) {
      this.#socket.destroy();
      this.#end(new Error(`unknown WebSocket opcode ${opcode}`));
      return;
    }
    this.#fragments.push(payload);
    if (!fin) return;
    const message = this.#fragments.length === 1 ? (this.#fragments[0] as Buffer) : Buffer.concat(this.#fragments);
    this.#fragments = [];
    this.#handlers.onMessage(message.toString('utf8'));
  }

  /** The first `n` buffered bytes as one buffer, or undefined when fewer have arrived. */
  #peek(n: number): Buffer | undefined {
    if (this.#buffered < n) {
      this.#needed = n;
      return undefined;
    }
    this.#needed = 0;
    if ((this.#chunks[0] as Buffer).length < n) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] as Buffer;
  }

  #consume(n: number): void {
    const first = this.#chunks[0] as Buffer;
    this.#buffered -= n;
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
  }
}

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + 4 + length);
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = 0x80 | length;
  else if (length < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  mask.copy(out, headerLength);
  for (let i = 0; i < length; i++) out[headerLength + 4 + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return out;
}
