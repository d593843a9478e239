// Server for bench/doctor-overhead.bench.ts: a small JSON API handler (parse the URL, build and
// serialize a response), typical of what the preload would watch in production. Prints
// "<port> <pid>" once listening: under a wrapper (clinic doctor, hangwatch doctor) the pid is not
// the wrapper's, and the bench measures the server's own CPU.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const items = [];
  for (let i = 0; i < 20; i++) items.push({ id: i, name: `item-${i}`, tags: ['a', 'b'], price: i * 1.5 });
  const body = JSON.stringify({ path: url.pathname, count: items.length, items });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port} ${process.pid}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
