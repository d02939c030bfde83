// The browser example: connect to the CrateDB URL given as ?url=… and show the cluster name.
// Build and CORS setup: see index.html.
import { connect } from "cratedb-fetch";

const result = document.querySelector("#result") as HTMLOutputElement;

function show(state: "done" | "error", text: string): void {
  result.textContent = text;
  result.dataset["state"] = state;
}

const url = new URLSearchParams(location.search).get("url");
if (url === null || url === "") {
  show("error", "add ?url=http://localhost:4200 (a CrateDB node that allows this page's origin with CORS) to the address");
} else {
  const conn = connect(url);
  try {
    const res = await conn.query("SELECT name FROM sys.cluster");
    show("done", String(res.rows[0]?.[0]));
  } catch (err) {
    show("error", err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  } finally {
    await conn.close();
  }
}
