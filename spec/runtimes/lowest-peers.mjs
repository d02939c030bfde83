// Lowest-peers lane: the Kysely and Drizzle specs in Node against the lowest versions the peerDependencies
// ranges allow (the devDependencies `kysely-lowest` and `drizzle-orm-lowest`, npm aliases pinned exactly),
// while every other lane runs them against `kysely` and `drizzle-orm`. The bundler resolves `kysely` and
// `drizzle-orm` (the specs' imports and those of dist/kysely.js and dist/drizzle.js) to the aliases.
// CRATEDB_FETCH_PEERS=lowest tells the specs which versions they run against.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bundleSpecs, mochaArgs, root } from "./bundle.mjs";
import { laneWithExample } from "./example.mjs";
import { exitFlushed } from "./exit.mjs";

const aliases = { kysely: "kysely-lowest", "drizzle-orm": "drizzle-orm-lowest" };
// Read as files: Kysely 0.28 does not export its package.json. The Drizzle spec checks the version it sees.
const version = (alias) => JSON.parse(readFileSync(join(root, "node_modules", alias, "package.json"), "utf8")).version;
for (const [name, alias] of Object.entries(aliases)) console.log(`  ${name} → ${alias} ${version(alias)}`);

const lowestPeers = {
  name: "lowest-peers",
  setup(b) {
    b.onResolve({ filter: /^(kysely|drizzle-orm)(\/.*)?$/ }, (args) => {
      const [, name, sub = ""] = /^(kysely|drizzle-orm)(\/.*)?$/.exec(args.path);
      // Kysely 0.28 exports its Migrator from "kysely" itself: "kysely/migration" (0.29) is that.
      const target = name === "kysely" && sub === "/migration" ? aliases.kysely : aliases[name] + sub;
      return b.resolve(target, { resolveDir: root, kind: args.kind });
    });
  },
};

const files = await bundleSpecs({
  entry: "node", outdir: join(root, "build/lowest-peers"), platform: "node", plugins: [lowestPeers],
  entryPoints: ["kysely", "drizzle"].map((name) => join(root, "spec", `${name}.spec.ts`)),
});
const grep = process.env.SPEC_GREP ? ["--grep", process.env.SPEC_GREP] : [];
exitFlushed(await laneWithExample(process.execPath, mochaArgs(files, grep), {
  ...process.env, CRATEDB_FETCH_PEERS: "lowest", CRATEDB_FETCH_LOWEST_DRIZZLE: version(aliases["drizzle-orm"]),
}));
