// A plain Express application using express-session (MemoryStore, the `connect.sid` cookie,
// `s%3A<id>.<signature>`), as the guard-mode tests put it behind the edge. Every request is
// appended to $APP_DIR/seen.log (its Cookie header), every session the kill page ends to
// $APP_DIR/destroyed.log. Usage: node server.mjs PORT
import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import cookie from 'cookie';
import express from 'express';
import session from 'express-session';

const dir = process.env.APP_DIR;
const app = express();
app.use((req, res, next) => {
  appendFileSync(`${dir}/seen.log`, `${req.headers.cookie ?? ''}\n`);
  next();
});
app.use(session({ secret: 'express-session test secret', resave: false, saveUninitialized: false }));

function edgeSigned(req, body) {
  const sig = Object.fromEntries(String(req.headers['x-session-signature'] ?? '').split(',').map((p) => {
    const i = p.indexOf('=');
    return [p.slice(0, i), p.slice(i + 1)];
  }));
  if (!sig.t || !sig.v2 || Math.abs(Date.now() / 1000 - Number(sig.t)) > 300) return false;
  const expected = createHmac('sha256', process.env.EDGE_ORIGIN_KEY).update(`cfsession-hook-v1\n${sig.t}\n${body}`).digest('hex');
  return expected.length === sig.v2.length && timingSafeEqual(Buffer.from(expected), Buffer.from(sig.v2));
}

// ORIGIN_KILL_URL: a signed POST carrying the ended session's cookies; ends that session.
app.post('/kill-session', express.text({ type: '*/*' }), (req, res) => {
  if (!edgeSigned(req, typeof req.body === 'string' ? req.body : '')) return res.status(401).send('unsigned');
  const id = req.sessionID;
  req.session.destroy(() => {
    appendFileSync(`${dir}/destroyed.log`, `${id}\n`);
    res.send(`destroyed ${id}`);
  });
});

// The differential tests: every cookie as express-session's own `cookie` (0.7) and the current
// `cookie` (1.x) read it, and whose session express-session attached. `?as=NAME` starts a
// session owned by NAME.
const require = createRequire(import.meta.url);
const sessionCookie = require(require.resolve('cookie', { paths: [dirname(require.resolve('express-session'))] }));
app.get('/echo', (req, res) => {
  const header = req.headers.cookie ?? '';
  if (req.query.as) req.session.owner = String(req.query.as);
  res.json({
    readers: {
      'express-session': Object.entries(sessionCookie.parse(header)),
      'cookie@1': Object.entries(cookie.parse(header)).map(([k, v]) => [k, String(v)]),
    },
    owner: req.session.owner ?? '',
  });
});

app.get('/rotate', (req, res) => {
  req.session.regenerate(() => {
    req.session.n = 1;
    res.send(`${req.sessionID} ${req.session.n}`);
  });
});

app.all('/{*any}', (req, res) => {
  req.session.n = (req.session.n ?? 0) + 1;
  res.send(`${req.sessionID} ${req.session.n}`);
});

const server = app.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
