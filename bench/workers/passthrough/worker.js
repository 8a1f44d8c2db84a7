// (b) A pass-through Worker: no session logic at all.
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    return fetch(env.ORIGIN_URL + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
    });
  },
};
