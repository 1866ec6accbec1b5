// Prints N distinct free TCP ports on 127.0.0.1 (bound to port 0, then released).
import net from 'node:net';
const n = Number(process.argv[2] || 1);
const servers = [];
for (let i = 0; i < n; i++) {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
}
console.log(servers.map((s) => s.address().port).join(' '));
await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
