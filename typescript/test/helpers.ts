/**
 * Test helpers: Cargo workspaces written to temp dirs (read by the real `cargo metadata`), a fake
 * rustlambda and a fake docker (scripts that log their argv), apps that skip or run bundling.
 * Real builds of real crates are the Python integration test's (tests/integration).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';

// CDK's built-in CloudFormation validation loads its schemas for seconds on the first synth;
// these tests check our constructs, the integration test's app synthesizes as users do.
process.env.CDK_VALIDATION ??= 'false';

export function tempDir(prefix = 'rustlambda-cdk-'): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

export function write(file: string, text: string, mode = 0o644): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
  return file;
}

/** A package: its directory (relative to the workspace) and its binaries. */
export interface PackageSpec {
  readonly dir: string;
  readonly name: string;
  readonly bins?: string[];
}

/** A package's Cargo.toml and sources; `bins` undefined: src/main.rs, the package's own bin. */
export function writePackage(root: string, spec: PackageSpec): string {
  const bins = (spec.bins ?? [])
    .map((bin) => `[[bin]]\nname = "${bin}"\npath = "src/${bin}.rs"\n`)
    .join('\n');
  const dir = path.join(root, spec.dir);
  write(
    path.join(dir, 'Cargo.toml'),
    `[package]\nname = "${spec.name}"\nversion = "0.1.0"\nedition = "2021"\n\n${bins}`,
  );
  for (const bin of spec.bins ?? []) {
    write(path.join(dir, 'src', `${bin}.rs`), 'fn main() {}\n');
  }
  if (!spec.bins) {
    write(path.join(dir, 'src', 'main.rs'), 'fn main() {}\n');
  }
  return path.join(dir, 'Cargo.toml');
}

/** A Cargo workspace of these packages at `root`. */
export function writeWorkspace(root: string, packages: PackageSpec[]): string {
  const members = packages.map((p) => `"${p.dir}"`).join(', ');
  write(path.join(root, 'Cargo.toml'), `[workspace]\nmembers = [${members}]\nresolver = "2"\n`);
  for (const spec of packages) {
    writePackage(root, spec);
  }
  return path.join(root, 'Cargo.toml');
}

/** A module in `dir` that instantiates what it is given: the "defining file" of a construct. */
export function definingModule(
  dir: string,
  name: string,
): (ctor: unknown, scope: unknown, id: string, props?: object) => unknown {
  const file = write(
    path.join(dir, name),
    'module.exports = (Ctor, scope, id, props) => new Ctor(scope, id, props);\n',
  );
  return require(file);
}

/** A stack whose assets are not bundled (CDK's bundling-stacks context): construct-time only. */
export function skippedStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Skipped');
}

/** A stack whose assets are bundled, writing into its own outdir. */
export function bundlingStack(outdir: string): { app: App; stack: Stack } {
  AssetStaging.clearAssetHashCache(); // as in a fresh synth process
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  return { app, stack: new Stack(app, 'Bundled') };
}

/**
 * A fake rustlambda: logs its argv (one JSON line) to `log`, writes a bootstrap for each of
 * FAKE_BINS into --lambda-dir and prints the JSON `rustlambda build --json` prints. With
 * FAKE_FAIL set it fails as a compile error does: cargo's diagnostics, `error:` and `fix:`.
 */
export function fakeRustlambda(dir: string, log: string): string {
  return write(
    path.join(dir, 'rustlambda'),
    `#!${process.execPath}
const fs = require('fs');
const path = require('path');
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(argv) + '\\n');
const value = (flag) => argv[argv.indexOf(flag) + 1];
if (process.env.FAKE_FAIL) {
  process.stderr.write('error[E0425]: cannot find value \`x\` in this scope\\n');
  process.stderr.write(' --> src/main.rs:1:13\\n');
  process.stderr.write('error: cargo failed (exit code 101) building greet\\n');
  process.stderr.write('fix: fix the errors cargo reports above, then build again\\n');
  process.exit(12);
}
const lambdaDir = value('--lambda-dir');
const target = value('--target');
const artifacts = (process.env.FAKE_BINS || '').split(' ').filter(Boolean).map((bin) => {
  const file = path.join(lambdaDir, bin, 'bootstrap');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'fake ' + bin + ' ' + target + '\\n');
  return { function: bin, kind: 'function', package: bin, target, arch: 'x', path: file,
           size: 1, sha256: '0', env: {}, include: [], zip: null };
});
process.stdout.write(JSON.stringify({ lambda_dir: lambdaDir, command: [], artifacts,
                                      warnings: [], verification: null }));
`,
    0o755,
  );
}

/** The argv lists the fake rustlambda (or fake docker) logged. */
export function logged(log: string): string[][] {
  if (!fs.existsSync(log)) {
    return [];
  }
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string[]);
}

/** Sets environment variables for the duration of `body`, then restores them. */
export function withEnv<T>(vars: { [key: string]: string | undefined }, body: () => T): T {
  const saved: { [key: string]: string | undefined } = {};
  for (const [key, value] of Object.entries(vars)) {
    saved[key] = process.env[key];
    if (value === undefined) {
      delete process.env[key];
    } else {
      process.env[key] = value;
    }
  }
  try {
    return body();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) {
        delete process.env[key];
      } else {
        process.env[key] = value;
      }
    }
  }
}

/**
 * A fake docker CLI (CDK runs `$CDK_DOCKER`): logs its argv; `version` answers when `answers`;
 * `build` succeeds; `run` writes a file into the host directory mounted at /asset-output, as a
 * bundling container would.
 */
export function fakeDocker(dir: string, log: string, answers: boolean): string {
  return write(
    path.join(dir, 'docker'),
    `#!${process.execPath}
const fs = require('fs');
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(argv) + '\\n');
if (argv[0] === 'version') process.exit(${answers ? 0 : 1});
if (argv[0] === 'image') process.exit(1);
if (argv[0] === 'run') {
  const mount = argv.find((a) => a.includes(':/asset-output:'));
  fs.writeFileSync(mount.split(':')[0] + '/bootstrap', 'built in docker\\n');
}
`,
    0o755,
  );
}
