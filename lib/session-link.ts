/**
 * A session's link for the request loop (see SessionLink in request.ts): one socket of its own, the node
 * it is bound to, and the rules of a session — bound by the first answer from a node that may have run
 * the request, failed over to a new socket before that, lost for good when its socket breaks after.
 */
import { ConnectionError } from "./errors.js";
import type { SessionLink } from "./request.js";
import type { ServerEntry } from "./servers.js";
import type { Transport, TransportError } from "./transport.js";

/** A link on sockets from `pin` (the transport's `pin()`). */
export function sessionLink(pin: () => Transport): SessionLink {
  let transport = pin();
  let server: ServerEntry | undefined;
  let lost: ConnectionError | undefined;
  return {
    get transport() {
      return transport;
    },
    get server() {
      return server;
    },
    get lost() {
      return lost;
    },
    answered(from, mayHaveRun) {
      if (server !== undefined) return;
      if (mayHaveRun) server = from;
      else {
        // The node refused the request before running it: a fresh socket, possibly to another node.
        void transport.close();
        transport = pin();
      }
    },
    broke(at, te, what) {
      // The socket broke (or may have carried the request), or never connected while the session was bound.
      if (!te.sent && te.code !== "ESESSIONLOST") return undefined;
      lost = new ConnectionError(`The session on ${at.url} is lost (${what}): its settings, cursors and ` +
        "open statements are gone with its connection; open a new session", { server: at.url, cause: te });
      return lost;
    },
  };
}
