// An Express application with Passport's username-and-password login, written as Passport's
// documentation writes it for express-session (passportjs.org: "Username & Password",
// "Sessions", "Log Out"), with one line changed: the session middleware is the edge's kit
// instead of express-session. Usage: node server.mjs PORT (CFS_ORIGIN_KEY in the environment)
import express from "express";
import passport from "passport";
import LocalStrategy from "passport-local";
import { edgeSession } from "../../../kits/node/edge-session.mjs";

const users = [{ id: 1, username: "alice", password: "letmein" }];

passport.use(new LocalStrategy(function verify(username, password, cb) {
  const user = users.find((u) => u.username === username);
  if (!user || user.password !== password) return cb(null, false, { message: "Incorrect username or password." });
  return cb(null, user);
}));

passport.serializeUser(function (user, cb) {
  process.nextTick(function () {
    cb(null, { id: user.id, username: user.username });
  });
});

passport.deserializeUser(function (user, cb) {
  process.nextTick(function () {
    return cb(null, user);
  });
});

const app = express();
app.use(express.urlencoded({ extended: false }));
// was: app.use(session({ secret: "keyboard cat", resave: false, saveUninitialized: false }));
app.use(edgeSession({ originKey: process.env.CFS_ORIGIN_KEY }));
app.use(passport.authenticate("session"));

app.get("/", function (req, res) {
  res.type("text").send(req.user ? `hello ${req.user.username}` : "hello stranger");
});

app.get("/login", function (req, res) {
  res.type("text").send("log in");
});

app.post("/login/password", passport.authenticate("local", {
  successRedirect: "/",
  failureRedirect: "/login",
}));

app.get("/profile", function (req, res) {
  if (!req.user) return res.redirect("/login");
  res.type("text").send(`profile of ${req.user.username}`);
});

app.post("/logout", function (req, res, next) {
  req.logout(function (err) {
    if (err) { return next(err); }
    res.redirect("/");
  });
});

app.listen(Number(process.argv[2]), "127.0.0.1", () => console.log("listening"));
