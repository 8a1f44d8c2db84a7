// A plain Express application using express-session (MemoryStore, the `connect.sid` cookie,
// `s%3A<id>.<signature>`), as the guard-mode tests put it behind the edge. Every request is
// appended to $APP_DIR/seen.log (its Cookie header), every session the kill page ends to
// $APP_DIR/destroyed.log. Usage: node server.mjs PORT
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
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


// ORIGIN_KILL_URL: docs/guard-mode.md's Express kill page, as written ($KILL_PAGE, a module
// the tests take from the docs); every session it ended goes to destroyed.log.
const { killSession } = await import(pathToFileURL(process.env.KILL_PAGE).href);
app.post('/kill-session', express.text({ type: '*/*' }), (req, res) => {
  const id = req.sessionID;
  res.on('finish', () => res.statusCode === 204 && appendFileSync(`${dir}/destroyed.log`, `${id}\n`));
  killSession(req, res);
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
