// (c) Hono with the hono-sessions middleware, configured as its README recommends for
// Workers: CookieStore (encrypted cookie sessions, no server-side store), sliding expiry,
// SameSite=Lax, HttpOnly. It proxies to the same origin.
import { Hono } from "hono";
import { CookieStore, sessionMiddleware } from "hono-sessions";

const app = new Hono();
// The key is a secret binding, so the middleware is built on the first request.
let sessions;
app.use("*", (c, next) => {
  sessions ??= sessionMiddleware({
    store: new CookieStore(),
    encryptionKey: c.env.SESSION_ENCRYPTION_KEY, // at least 32 characters
    expireAfterSeconds: 1200,
    autoExtendExpiration: true,
    cookieOptions: { sameSite: "Lax", path: "/", httpOnly: true },
  });
  return sessions(c, next);
});

app.all("*", async (c) => {
  const session = c.get("session");
  const url = new URL(c.req.url);
  if (url.searchParams.has("killSession")) {
    session.deleteSession();
    return c.redirect(url.pathname, 302);
  }
  session.set("hits", (session.get("hits") ?? 0) + 1);
  if (url.pathname.startsWith("/write")) session.set("n", (session.get("n") ?? 0) + 1);
  const resp = await fetch(c.env.ORIGIN_URL + url.pathname + url.search, {
    method: c.req.method,
    headers: c.req.raw.headers,
    body: c.req.raw.body,
    redirect: "manual",
  });
  return new Response(resp.body, { status: resp.status, headers: new Headers(resp.headers) });
});

export default app;
