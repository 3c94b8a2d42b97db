/**
 * The Rust project behind a construct: which Cargo.toml (the seed's entry lookup, and the
 * nearest workspace with the binary when there is none), the workspace as `cargo metadata
 * --no-deps` sees it, and which binary the asset holds.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { RustLambdaCdkError } from './errors';

/** A package of the workspace and its binary targets. */
export interface CargoPackage {
  readonly name: string;
  readonly manifestPath: string;
  readonly bins: string[];
}

/** A Cargo workspace (or a lone package, its own workspace) as `cargo metadata` reports it. */
export interface Workspace {
  readonly root: string;
  readonly targetDirectory: string;
  readonly packages: CargoPackage[];
}

/** What a construct builds from. */
export interface RustProject {
  /** The Cargo.toml the construct was pointed at (or found). */
  readonly manifest: string;
  /** The workspace root: the directory of Cargo.lock, the build's input directory. */
  readonly root: string;
  readonly targetDirectory: string;
  /** The binary the asset holds. */
  readonly binary: string;
  /** Undefined when cargo is not available here (Docker bundling). */
  readonly workspace?: Workspace;
}

export type Env = { [key: string]: string | undefined };

/** An executable on PATH (or the given path, when it has a slash), if it exists. */
export function which(command: string, env: Env): string | undefined {
  const executable = (file: string): boolean => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) {
    return executable(command) ? path.resolve(command) : undefined;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, command))) {
      return path.join(dir, command);
    }
  }
  return undefined;
}

/** cargo as cargo-lambda and rustlambda find it: `$CARGO`, else PATH. */
export function findCargo(env: Env): string | undefined {
  return env.CARGO ? which(env.CARGO, env) : which('cargo', env);
}

/** Runs `cargo metadata --no-deps` once per manifest (per app: the caller keeps the cache). */
export class Projects {
  constructor(
    private readonly env: Env,
    private readonly workspaces = new Map<string, Workspace>(),
  ) {}

  /** The workspace of `manifest`, or undefined when no cargo is available here. */
  public workspace(manifest: string): Workspace | undefined {
    const cached = this.workspaces.get(manifest);
    if (cached) {
      return cached;
    }
    const cargo = findCargo(this.env);
    if (!cargo) {
      return undefined;
    }
    const args = ['metadata', '--no-deps', '--format-version', '1', '--manifest-path', manifest];
    const done = spawnSync(cargo, args, {
      env: this.env as NodeJS.ProcessEnv,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (done.error || done.status !== 0) {
      throw new RustLambdaCdkError(
        `cargo metadata cannot read ${manifest}`,
        "fix the Cargo.toml (cargo's message is above), or point entry at another one",
        done.error ? String(done.error) : done.stderr || done.stdout,
      );
    }
    const workspace = parseMetadata(JSON.parse(done.stdout));
    this.workspaces.set(manifest, workspace);
    return workspace;
  }
}

interface MetadataJson {
  workspace_root: string;
  target_directory: string;
  packages: { name: string; manifest_path: string; targets: { name: string; kind: string[] }[] }[];
}

function parseMetadata(metadata: MetadataJson): Workspace {
  return {
    root: metadata.workspace_root,
    targetDirectory: metadata.target_directory,
    packages: metadata.packages.map((p) => ({
      name: p.name,
      manifestPath: p.manifest_path,
      bins: p.targets.filter((t) => t.kind.includes('bin')).map((t) => t.name),
    })),
  };
}

/** Every binary of the workspace, sorted, without duplicates. */
export function workspaceBinaries(workspace: Workspace): string[] {
  return [...new Set(workspace.packages.flatMap((p) => p.bins))].sort();
}

/**
 * The file that instantiated the construct: the first caller outside this package, CDK and
 * constructs (what the seed construct finds from the V8 call sites).
 */
export function findDefiningFile(): string | undefined {
  const original = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let sites: NodeJS.CallSite[];
  try {
    Error.stackTraceLimit = 200;
    Error.prepareStackTrace = (_error, stack) => stack;
    sites = new Error().stack as unknown as NodeJS.CallSite[];
  } finally {
    Error.prepareStackTrace = original;
    Error.stackTraceLimit = limit;
  }
  for (const site of sites) {
    let file = site.getFileName();
    if (!file) {
      continue;
    }
    if (file.startsWith('file://')) {
      file = fileURLToPath(file);
    }
    if (!path.isAbsolute(file) || isInside(file, __dirname)) {
      continue;
    }
    if (/[\\/]node_modules[\\/](aws-cdk-lib|constructs)[\\/]/.test(file)) {
      continue;
    }
    return file;
  }
  return undefined;
}

function samePath(a: string, b: string): boolean {
  const real = (file: string): string => {
    try {
      return fs.realpathSync(file);
    } catch {
      return path.resolve(file);
    }
  };
  return real(a) === real(b);
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** The seed's `entry`: a Cargo.toml, or a directory holding one. */
export function manifestOfEntry(entry: string): string {
  const manifest = path.resolve(
    path.basename(entry) === 'Cargo.toml' ? entry : path.join(entry, 'Cargo.toml'),
  );
  if (!fs.existsSync(manifest)) {
    throw new RustLambdaCdkError(
      `Cannot find manifest file at ${manifest}`,
      'pass entry: a Cargo.toml or the directory holding it',
    );
  }
  return manifest;
}

/** `defining-file.id/Cargo.toml` for `stack.ts` and id `my_function`: `stack.my_function/`. */
export function defaultManifest(definingFile: string, id: string): string {
  const extension = path.extname(definingFile);
  const stem = definingFile.slice(0, definingFile.length - extension.length);
  return `${stem}.${id}${path.sep}Cargo.toml`;
}

/**
 * With no entry and no `defining-file.id/Cargo.toml`: the nearest workspace at or above the
 * defining file's directory that has `binaryName` (the seed README's workspace example).
 */
export function findWorkspaceWithBinary(
  start: string,
  binaryName: string,
  projects: Projects,
  what: string,
): string {
  const seen: Workspace[] = [];
  for (const dir of ancestors(start)) {
    const manifest = path.join(dir, 'Cargo.toml');
    if (!fs.existsSync(manifest)) {
      continue;
    }
    const workspace = projects.workspace(manifest);
    if (!workspace) {
      throw new RustLambdaCdkError(
        `${what}: no entry given, and finding the workspace that has ${binaryName} ` +
          `needs cargo (cargo metadata), which is not installed here`,
        'pass entry: the workspace directory (or its Cargo.toml)',
      );
    }
    if (seen.some((w) => w.root === workspace.root)) {
      continue;
    }
    seen.push(workspace);
    const owners = workspace.packages.filter((p) => p.bins.includes(binaryName));
    if (owners.length === 1) {
      return path.join(workspace.root, 'Cargo.toml');
    }
    if (owners.length > 1) {
      const listed = owners.map((p) => `${p.name} (${p.manifestPath})`).join(', ');
      throw new RustLambdaCdkError(
        `${what}: the workspace ${workspace.root} has several binaries named ${binaryName}: ` +
          `in packages ${listed}`,
        'pass entry: the Cargo.toml of the package to build',
      );
    }
  }
  const found = seen.map((w) => `${w.root} (${workspaceBinaries(w).join(', ') || 'no binaries'})`);
  throw new RustLambdaCdkError(
    `${what}: no entry given, and no Cargo workspace at or above ${start} has a binary ` +
      `named ${binaryName}` +
      (found.length ? `; found: ${found.join('; ')}` : '; no Cargo.toml found there'),
    'pass entry (a Cargo.toml or its directory), or binaryName one of the binaries found',
  );
}

function* ancestors(start: string): Generator<string> {
  let dir = path.resolve(start);
  for (let depth = 0; depth < 256; depth++) {
    yield dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      return;
    }
    dir = parent;
  }
}

/** The binary the asset holds: binaryName, else the package's own binary, else the only one. */
export function chooseBinary(
  workspace: Workspace,
  manifest: string,
  binaryName: string | undefined,
  what: string,
): string {
  const everything = workspaceBinaries(workspace);
  if (binaryName !== undefined) {
    if (!everything.includes(binaryName)) {
      throw new RustLambdaCdkError(
        `${what}: no binary named ${binaryName} in ${manifest}`,
        `pass binaryName one of: ${everything.join(', ') || '(the workspace has no binaries)'}`,
      );
    }
    return binaryName;
  }
  const own = workspace.packages.find((p) => samePath(p.manifestPath, manifest));
  const candidates = own ? own.bins : everything;
  if (own && own.bins.includes(own.name)) {
    return own.name;
  }
  if (candidates.length === 1) {
    return candidates[0];
  }
  throw new RustLambdaCdkError(
    `${what}: ${manifest} is a workspace or has several binaries, and no binaryName says which`,
    `pass binaryName one of: ${everything.join(', ') || '(none)'}`,
  );
}

/** Without cargo: the nearest Cargo.toml at or above the manifest that declares [workspace]. */
export function guessWorkspaceRoot(manifest: string): string {
  for (const dir of ancestors(path.dirname(manifest))) {
    const candidate = path.join(dir, 'Cargo.toml');
    if (fs.existsSync(candidate) && /^\s*\[workspace\]/m.test(fs.readFileSync(candidate, 'utf8'))) {
      return dir;
    }
  }
  return path.dirname(manifest);
}

/** Everything the construct needs to know about its Rust project, or a clear error. */
export function resolveProject(options: {
  id: string;
  what: string;
  entry?: string;
  binaryName?: string;
  projects: Projects;
}): RustProject {
  const { id, what, entry, binaryName, projects } = options;
  const manifest = locateManifest(id, what, entry, binaryName, projects);
  const workspace = projects.workspace(manifest);
  if (!workspace) {
    if (binaryName === undefined) {
      throw new RustLambdaCdkError(
        `${what}: binaryName is needed when cargo is not installed here to read ${manifest}`,
        'pass binaryName (or install cargo)',
      );
    }
    const root = guessWorkspaceRoot(manifest);
    return { manifest, root, targetDirectory: path.join(root, 'target'), binary: binaryName };
  }
  const binary = chooseBinary(workspace, manifest, binaryName, what);
  const { root, targetDirectory } = workspace;
  return { manifest, root, targetDirectory, binary, workspace };
}

function locateManifest(
  id: string,
  what: string,
  entry: string | undefined,
  binaryName: string | undefined,
  projects: Projects,
): string {
  if (entry !== undefined) {
    return manifestOfEntry(entry);
  }
  const definingFile = findDefiningFile();
  if (!definingFile) {
    throw new RustLambdaCdkError(
      `${what}: no entry given and the file defining the construct cannot be found`,
      'pass entry: a Cargo.toml or the directory holding it',
    );
  }
  const manifest = defaultManifest(definingFile, id);
  if (fs.existsSync(manifest)) {
    return manifest;
  }
  if (binaryName !== undefined) {
    return findWorkspaceWithBinary(path.dirname(definingFile), binaryName, projects, what);
  }
  throw new RustLambdaCdkError(
    `${what}: Cannot find manifest file - Cargo.toml: no entry given and no ${manifest}`,
    `pass entry (a Cargo.toml or its directory), put the crate at ${path.basename(
      path.dirname(manifest),
    )}/ next to ${path.basename(definingFile)}, or pass binaryName to use the nearest ` +
      'workspace above that has it',
  );
}
