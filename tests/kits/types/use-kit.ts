// Type-checks the Node kit's declarations the way an Express application would use them
// (`tsc --noEmit -p tests/kits/types`, run by tests/kits.rs).
import http from "node:http";
import { edgeSession, verifyHook, type Session } from "cfsession-edge-kit";

const middleware = edgeSession({ originKey: "k", edgeUrl: "https://www.example.com" });
http.createServer((req, res) => {
  if (!middleware.handle(req, res)) return;
  const session: Session = req.session!;
  session.count = Number(session.count ?? 0) + 1;
  session.cookie.maxAge = 20 * 60 * 1000;
  session.regenerate((err) => {
    if (err) throw err;
    session.save(() => res.end(String(req.sessionID)));
  });
  req.edge?.setUser("alice");
  void req.edge?.listMySessions().then((mine) => mine.items.length);
  verifyHook("k", req.headers, "{}");
});
