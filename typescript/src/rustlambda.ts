/**
 * The rustlambda command line as local bundling uses it: finding the executable, the
 * `rustlambda build --json` argv for one workspace and target, running it and reading the JSON
 * it prints (rustlambda's `BuildResult.to_dict`).
 */
import { spawnSync } from 'child_process';
import { RustLambdaCdkError } from './errors';
import { Env, which } from './project';
import { LogLevel, PackageManagerType } from './types';

/** The rustlambda this package is made for (Docker bundling installs it). */
export const RUSTLAMBDA_VERSION = '0.1.0';

/** How to get rustlambda, for error messages. */
export const INSTALL_HINT =
  'pip install rustlambda (then run synth again), or set RUSTLAMBDA=/path/to/rustlambda ' +
  '(or bundling.rustlambdaPath)';

export type LambdaRuntimeName = 'provided.al2023' | 'provided.al2';

/** One artifact of `rustlambda build --json` (the fields the constructs read). */
export interface BuiltArtifact {
  readonly function: string;
  readonly kind: string;
  readonly package: string;
  readonly target: string;
  readonly arch: string;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** What `rustlambda build --json` prints. */
export interface BuildResultJson {
  readonly lambda_dir: string;
  readonly command: string[];
  readonly artifacts: BuiltArtifact[];
  readonly warnings: string[];
}

/**
 * One build: locally a whole workspace (shared by its assets) for one target and one set of
 * settings, printed as JSON; in Docker one binary.
 */
export interface BuildRequest {
  readonly manifest: string;
  readonly target: string;
  readonly runtime: LambdaRuntimeName;
  readonly lambdaDir: string;
  /** Build only this binary; default: every binary of the workspace (`--workspace`). */
  readonly binary?: string;
  readonly targetDir?: string;
  readonly json?: boolean;
  readonly packageManagerType?: PackageManagerType;
  readonly features?: string[];
  readonly extraBuildArgs?: string[];
  readonly logLevel?: LogLevel;
}

/** rustlambda's `--compiler` for the seed's package manager types. */
export function compilerOf(type: PackageManagerType): string {
  switch (type) {
    case PackageManagerType.CARGO_ZIGBUILD:
      return 'zig';
    case PackageManagerType.CROSS:
      return 'cross';
    case PackageManagerType.CARGO:
      return 'cargo';
    default:
      throw new RustLambdaCdkError(
        `unknown packageManagerType ${String(type)}`,
        'use PackageManagerType.CARGO_ZIGBUILD, CROSS or CARGO',
      );
  }
}

/** rustlambda build's own flags, and whether each takes a value. */
const OWN_FLAGS: { [flag: string]: boolean } = {
  '--release': false,
  '-r': false,
  '--profile': true,
  '--compiler': true,
  '--features': true,
  '-F': true,
  '--all-features': false,
  '--no-default-features': false,
  '--disable-optimizations': false,
  '--target-dir': true,
  '--skip-target-check': false,
  '--locked': false,
  '--offline': false,
  '--frozen': false,
  '--jobs': true,
  '-j': true,
  '--no-verify': false,
  '--quiet': false,
  '-q': false,
  '--verbose': false,
  '-v': false,
  '-vv': false,
};

/** Flags the construct sets itself, and the prop to use instead. */
const CONSTRUCT_FLAGS: { [flag: string]: string } = {
  '--bin': 'binaryName',
  '--package': 'entry or binaryName',
  '-p': 'entry or binaryName',
  '--workspace': 'entry (the workspace is always built whole)',
  '--example': 'binaryName',
  '--target': 'architecture (or bundling.target)',
  '--arm64': 'architecture',
  '--x86-64': 'architecture',
  '--runtime': 'runtime',
  '--manifest-path': 'entry',
  '--lambda-dir': 'nothing: the construct copies the binary into the asset',
  '-l': 'nothing: the construct copies the binary into the asset',
  '--flatten': 'nothing: the asset has the binary as bootstrap',
  '--extension': 'RustExtension',
  '--internal': 'RustExtension',
  '--json': 'nothing',
  '--output-format': 'nothing: CDK zips the asset directory',
  '-o': 'nothing: CDK zips the asset directory',
  '--include': 'commandHooks.afterBundling (copy files into outputDir)',
};

/**
 * extraBuildArgs split into rustlambda's own flags and cargo's (passed after `--`). Flags the
 * construct sets itself (`--bin`, `--target`, ...) are refused with the prop to use.
 */
export function splitBuildArgs(
  args: readonly string[],
  what: string,
): { rustlambda: string[]; cargo: string[] } {
  const rustlambda: string[] = [];
  const cargo: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      cargo.push(...args.slice(i + 1));
      break;
    }
    const name = arg.startsWith('-') ? flagName(arg) : '';
    if (name in CONSTRUCT_FLAGS) {
      throw new RustLambdaCdkError(
        `${what}: bundling.extraBuildArgs may not contain ${name}: the construct sets it`,
        `use ${CONSTRUCT_FLAGS[name]} instead`,
      );
    }
    if (name in OWN_FLAGS) {
      rustlambda.push(arg);
      // `--profile x` takes the next word; `--profile=x` and `-j4` carry their value
      if (OWN_FLAGS[name] && arg === name && i + 1 < args.length) {
        rustlambda.push(args[++i]);
      }
      continue;
    }
    cargo.push(arg); // cargo's own flags and their values, in order
  }
  return { rustlambda, cargo };
}

function flagName(arg: string): string {
  if (arg.startsWith('--')) {
    return arg.split('=')[0];
  }
  if (arg === '-vv') {
    return arg;
  }
  return arg.slice(0, 2); // -j4, -Ffoo
}

/** The argv of `rustlambda build` (without the executable) for one request. */
export function buildArgs(request: BuildRequest, what: string): string[] {
  const extra = splitBuildArgs(request.extraBuildArgs ?? [], what);
  const hasProfile = extra.rustlambda.some((a) => flagName(a) === '--profile');
  const argv = [
    'build',
    ...(request.json ? ['--json'] : []),
    ...(request.binary === undefined ? ['--workspace'] : ['--bin', request.binary]),
    '--manifest-path',
    request.manifest,
    '--target',
    request.target,
    '--runtime',
    request.runtime,
    '--lambda-dir',
    request.lambdaDir,
    ...(request.targetDir === undefined ? [] : ['--target-dir', request.targetDir]),
    ...(hasProfile ? [] : ['--release']),
  ];
  if (request.packageManagerType !== undefined) {
    argv.push('--compiler', compilerOf(request.packageManagerType));
  }
  if (request.features?.length) {
    argv.push('--features', request.features.join(','));
  }
  if (request.logLevel === LogLevel.VERBOSE) {
    argv.push('-v');
  } else if (request.logLevel === LogLevel.SILENT) {
    argv.push('-q');
  }
  argv.push(...extra.rustlambda);
  if (extra.cargo.length) {
    argv.push('--', ...extra.cargo);
  }
  return argv;
}

/** The rustlambda to run: the prop, else `$RUSTLAMBDA`, else PATH; undefined if none. */
export function locateRustlambda(configured: string | undefined, env: Env): string | undefined {
  const wanted = configured ?? env.RUSTLAMBDA ?? 'rustlambda';
  return which(wanted, env);
}

/** The error for a rustlambda that is not there, and no Docker to fall back on. */
export function rustlambdaMissing(configured: string | undefined, env: Env): RustLambdaCdkError {
  const looked = configured
    ? `bundling.rustlambdaPath ${configured} does not exist or is not executable`
    : env.RUSTLAMBDA
      ? `RUSTLAMBDA=${env.RUSTLAMBDA} does not exist or is not executable`
      : 'rustlambda is not on PATH (and RUSTLAMBDA is not set)';
  return new RustLambdaCdkError(
    `rustlambda-cdk: local bundling needs the rustlambda command: ${looked}; Docker bundling ` +
      'is not possible either (no Docker engine answers)',
    INSTALL_HINT,
  );
}

/** Runs `rustlambda build --json ...`; the parsed result, or an error carrying its output. */
export function runBuild(
  rustlambda: string,
  argv: string[],
  options: { cwd: string; env: Env; what: string; echo: (text: string) => void },
): BuildResultJson {
  const done = spawnSync(rustlambda, argv, {
    cwd: options.cwd,
    env: options.env as NodeJS.ProcessEnv,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const command = [rustlambda, ...argv].map(shellQuote).join(' ');
  if (done.error) {
    const missing = (done.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new RustLambdaCdkError(
      `${options.what}: cannot run ${rustlambda}: ${done.error.message}`,
      missing ? INSTALL_HINT : 'check that rustlambda runs: rustlambda --version',
    );
  }
  if (done.status !== 0) {
    const stderr = tail(done.stderr ?? '', 60_000);
    throw new RustLambdaCdkError(
      `${options.what}: rustlambda build failed (exit code ${done.status ?? done.signal})\n` +
        `command: ${command}`,
      /^fix: /m.test(stderr) ? '' : 'run the command above in a shell to see why',
      stderr,
    );
  }
  if (done.stderr?.trim()) {
    options.echo(done.stderr);
  }
  try {
    return JSON.parse(done.stdout) as BuildResultJson;
  } catch (error) {
    throw new RustLambdaCdkError(
      `${options.what}: rustlambda build --json printed no JSON (${String(error)})\n` +
        `command: ${command}`,
      `use rustlambda ${RUSTLAMBDA_VERSION} or newer (${INSTALL_HINT})`,
      tail(done.stdout, 4000),
    );
  }
}

function tail(text: string, limit: number): string {
  return text.length <= limit ? text : `[...]\n${text.slice(text.length - limit)}`;
}

/** A POSIX shell word (for commands shown to users and run by bash in Docker). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
