// A forwarding HTTP proxy on loopback, the kind a runner behind a corporate proxy has: it tunnels CONNECT
// requests and forwards absolute-URI requests, and records what passed through. It resolves host names
// from its own table (`hosts`), so a URL whose host only the proxy knows can only succeed through it.
import { request as httpRequest, createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface ProxiedRequest {
  /** `CONNECT` for a tunnel, else the forwarded request's method. */
  method: string;
  /** `host:port` for a tunnel, the absolute URL otherwise. */
  target: string;
}

export interface ForwardProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Tunnels opened and requests forwarded, in order. */
  requests: ProxiedRequest[];
  /** The request lines (`GET /path HTTP/1.1`) seen inside plain-HTTP tunnels, in order. */
  tunnelled(): string[];
  close(): Promise<void>;
}

/** `host:port` → where to connect, after the proxy's own table. */
function resolve(hosts: Record<string, string>, host: string, port: number): { host: string; port: number } {
  const mapped = hosts[`${host}:${port}`] ?? hosts[host];
  if (!mapped) return { host, port };
  const at = mapped.lastIndexOf(':');
  return at < 0 ? { host: mapped, port } : { host: mapped.slice(0, at), port: Number(mapped.slice(at + 1)) };
}

export async function startForwardProxy(
  options: { hosts?: Record<string, string> } = {},
): Promise<ForwardProxy> {
  const hosts = options.hosts ?? {};
  const requests: ProxiedRequest[] = [];
  const streams: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    // Absolute-URI form: `GET http://host:port/path HTTP/1.1`.
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('proxy: not an absolute URI');
      return;
    }
    requests.push({ method: req.method ?? '', target: url.href });
    const to = resolve(hosts, url.hostname, Number(url.port) || 80);
    const upstream = httpRequest(
      {
        host: to.host,
        port: to.port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: req.headers,
      },
      (answer: IncomingMessage) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end('proxy: upstream failed'));
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    requests.push({ method: 'CONNECT', target });
    const at = target.lastIndexOf(':');
    const to = resolve(hosts, target.slice(0, at), Number(target.slice(at + 1)));
    const index = streams.push(head.toString('latin1')) - 1;
    // The client's bytes wait (a socket without a reader is paused) until the upstream connection is up.
    const upstream = connect(to.port, to.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.on('data', (chunk: Buffer) => (streams[index] += chunk.toString('latin1')));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', () => {
      if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    client.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    tunnelled: () =>
      streams.flatMap((text) =>
        // A request follows the previous one's body directly, so lines are not anchored.
        [...text.matchAll(/((?:GET|HEAD|POST|PUT|PATCH|DELETE) \/\S* HTTP\/1\.[01])\r\n/g)].map((m) => m[1]!),
      ),
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}
