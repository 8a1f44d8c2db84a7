// Types for edge-session.mjs (the cfsession-edge origin kit for Node).
import type { IncomingMessage, ServerResponse } from "node:http";

/** express-session's cookie, as the edge's session has it. Setting `maxAge` (ms) or `expires`
 * sets the session's idle timeout at the edge. */
export interface SessionCookie {
  readonly path: "/";
  readonly httpOnly: true;
  readonly sameSite: "lax";
  readonly originalMaxAge: number | null;
  maxAge: number | null;
  expires: Date | null;
}

/** `req.session`: the session variables as its own properties, and express-session's methods. */
export interface Session {
  /** The session id (the CFID). */
  readonly id: string;
  readonly cookie: SessionCookie;
  /** New ids and no data: the edge rotates the ids after the response. */
  regenerate(callback?: (err?: unknown) => void): void;
  /** Ends the session at the edge; `req.session` is undefined afterwards. */
  destroy(callback?: (err?: unknown) => void): void;
  /** Changes go out with the response head; calls back at once. */
  save(callback?: (err?: unknown) => void): this;
  /** The data as the request brought it. */
  reload(callback?: (err?: unknown) => void): this;
  touch(): this;
  resetMaxAge(): this;
  [key: string]: unknown;
}

/** `req.edge`: the edge's own view of the session. */
export interface EdgeApi {
  readonly id: string;
  readonly isNew: boolean;
  readonly hits: number | undefined;
  invalidate(): void;
  rotate(): void;
  setTimeout(seconds: number): void;
  setUser(userId: string): void;
  listMySessions(): Promise<{ user: string; items: Array<Record<string, unknown>> }>;
  endSession(sessionId: string): Promise<Record<string, unknown>>;
  endOtherSessions(): Promise<{ ended: string[] }>;
}

declare module "node:http" {
  interface IncomingMessage {
    session?: Session | null;
    sessionID?: string;
    edge?: EdgeApi;
  }
}

export interface EdgeSessionOptions {
  /** The origin key (`scripts/origin-key`); during a key rotation two, comma-separated, previous first. */
  originKey: string;
  /** The edge's public URL, for the origin API (default: `https://` + the request's Host). */
  edgeUrl?: string;
  /** What a request that did not come through the edge gets (default: 403). */
  onRefused?: (req: IncomingMessage, res: ServerResponse) => void;
  /** The user id to tag a session with (default: Passport's `session.passport.user`). */
  userOf?: (session: Session | Record<string, unknown> | undefined) => string | undefined;
}

export interface EdgeSessionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void;
  /** node:http: false when the request was refused (already answered). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

export function edgeSession(options: EdgeSessionOptions): EdgeSessionMiddleware;
export function verifyRequest(req: IncomingMessage, originKey: string): boolean;
export function verifyHook(originKey: string, headers: Record<string, string | string[] | undefined>, body: string): boolean;
export function originApi(edgeUrl: string, originKey: string, id: string, method: string, rest: string): Promise<any>;
export function changes(before: Record<string, unknown>, data: Record<string, unknown>): Record<string, unknown>;
export function asciiJson(value: unknown): string;
export function userHeader(userId: string): string;
export function passportUser(session: unknown): string | undefined;
