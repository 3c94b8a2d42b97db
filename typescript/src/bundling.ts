/**
 * The asset of one Rust binary: local bundling through rustlambda with ONE build per workspace,
 * target and settings for the whole app (the first asset builds every binary of the workspace,
 * the others copy theirs), Docker bundling otherwise, and the CDK asset hashed from its output.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  AssetHashType,
  AssetStaging,
  BundlingOptions as CdkBundlingOptions,
  ILocalBundling,
} from 'aws-cdk-lib';
import { Architecture, AssetCode, Code } from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import {
  cargoCacheVolumes,
  DEFAULT_RUSTLAMBDA_SPEC,
  defaultBundlingImage,
  dockerAvailable,
  dockerBundlingScript,
} from './docker';
import { RustLambdaCdkError } from './errors';
import { Env, findCargo, Projects, resolveProject, RustProject, Workspace } from './project';
import {
  BuildRequest,
  BuildResultJson,
  buildArgs,
  LambdaRuntimeName,
  locateRustlambda,
  runBuild,
  rustlambdaMissing,
} from './rustlambda';
import { BundlingOptions, ICommandHooks, LogLevel } from './types';

/** The builds of one app: what ran, and each shared build's result (or failure). */
class SharedBuilds {
  public readonly results = new Map<string, BuildResultJson | RustLambdaCdkError>();
  public readonly workspaces = new Map<string, Workspace>();
  /** Every `rustlambda build` this app ran (argv without the executable). */
  public readonly runs: string[][] = [];

  /** The shared build of `key`: run once; again when a beforeBundling hook ran since. */
  public build(key: string, rustlambda: string, argv: string[], run: RunContext): BuildResultJson {
    const cached = this.results.get(key);
    if (cached instanceof Error) {
      throw cached;
    }
    if (cached && !run.fresh) {
      return cached;
    }
    const again = cached ? ' again, after beforeBundling hooks' : '';
    run.echo(`rustlambda: building ${run.cwd} for ${run.target}${again}\n`);
    this.runs.push(argv);
    try {
      const result = runBuild(rustlambda, argv, run);
      this.results.set(key, result);
      return result;
    } catch (error) {
      if (error instanceof RustLambdaCdkError) {
        this.results.set(key, error);
      }
      throw error;
    }
  }
}

interface RunContext {
  readonly cwd: string;
  readonly env: Env;
  readonly what: string;
  readonly target: string;
  readonly fresh: boolean;
  readonly echo: (text: string) => void;
}

// A module-level cache, one entry per app: apps synthesized one after the other in a process
// (tests, or an app after its sources changed) each build afresh.
const APPS = new WeakMap<IConstruct, SharedBuilds>();

function sharedBuildsOf(scope: IConstruct): SharedBuilds {
  const root = scope.node.root;
  let shared = APPS.get(root);
  if (!shared) {
    shared = new SharedBuilds();
    APPS.set(root, shared);
  }
  return shared;
}

/** The `rustlambda build` runs the app of `scope` made so far (argv without the executable). */
export function rustlambdaBuilds(scope: IConstruct): string[][] {
  return [...sharedBuildsOf(scope).runs];
}

/** Local bundling: rustlambda on this machine; declines (→ Docker) when it cannot run here. */
class LocalBundling implements ILocalBundling {
  // Plain data only in public fields: CDK hashes the bundling options as JSON.
  public readonly binary: string;
  public readonly destination: string;
  public readonly key: string;
  public readonly argv: string[];
  public readonly root: string;
  public readonly target: string;
  #shared: SharedBuilds;
  #hooks?: ICommandHooks;
  #env: Env;
  #rustlambdaPath?: string;
  #what: string;
  #echo: (text: string) => void;

  constructor(options: {
    shared: SharedBuilds;
    project: RustProject;
    destination: string;
    key: string;
    argv: string[];
    target: string;
    bundling: BundlingOptions;
    env: Env;
    what: string;
  }) {
    this.binary = options.project.binary;
    this.destination = options.destination;
    this.key = options.key;
    this.argv = options.argv;
    this.root = options.project.root;
    this.target = options.target;
    this.#shared = options.shared;
    this.#hooks = options.bundling.commandHooks;
    this.#env = options.env;
    this.#rustlambdaPath = options.bundling.rustlambdaPath;
    this.#what = options.what;
    const silent = options.bundling.logLevel === LogLevel.SILENT;
    this.#echo = silent ? () => undefined : (text) => process.stderr.write(text);
  }

  public tryBundle(outputDir: string): boolean {
    const env = this.#env;
    const rustlambda = locateRustlambda(this.#rustlambdaPath, env);
    if (!rustlambda) {
      if (dockerAvailable(env)) {
        this.#echo(`rustlambda-cdk: no rustlambda here: bundling ${this.binary} in Docker\n`);
        return false;
      }
      throw rustlambdaMissing(this.#rustlambdaPath, env);
    }
    if (!findCargo(env) && dockerAvailable(env)) {
      this.#echo(`rustlambda-cdk: no cargo here: bundling ${this.binary} in Docker\n`);
      return false;
    } // no cargo and no Docker: rustlambda says what is missing and how to install it
    const before = this.#hooks?.beforeBundling(this.root, outputDir) ?? [];
    this.runHooks('beforeBundling', before);
    const result = this.#shared.build(this.key, rustlambda, this.argv, {
      cwd: this.root,
      env,
      what: this.#what,
      target: this.target,
      fresh: before.length > 0,
      echo: this.#echo,
    });
    const artifact = result.artifacts.find((a) => a.function === this.binary);
    if (!artifact) {
      const built = result.artifacts.map((a) => a.function).join(', ') || 'nothing';
      throw new RustLambdaCdkError(
        `${this.#what}: rustlambda built ${built}, not ${this.binary}`,
        'pass binaryName one of the binaries built',
      );
    }
    const destination = path.join(outputDir, this.destination);
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    fs.copyFileSync(artifact.path, destination);
    fs.chmodSync(destination, 0o755);
    this.runHooks('afterBundling', this.#hooks?.afterBundling(this.root, outputDir) ?? []);
    return true;
  }

  private runHooks(name: string, commands: string[]): void {
    if (!commands.length) {
      return;
    }
    const script = commands.join(' && ');
    const done = spawnSync('bash', ['-c', script], {
      cwd: this.root,
      env: this.#env as NodeJS.ProcessEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = `${done.stdout ?? ''}${done.stderr ?? ''}`;
    if (done.error || done.status !== 0) {
      throw new RustLambdaCdkError(
        `${this.#what}: the ${name} command hook failed ` +
          `(${done.error ? done.error.message : `exit code ${done.status}`}): ${script}`,
        'fix the command hook',
        output,
      );
    }
    if (output.trim()) {
      this.#echo(output);
    }
  }
}

/** The gnu target of an architecture, or bundling.target when it agrees with it. */
export function targetOf(
  architecture: Architecture,
  target: string | undefined,
  what: string,
): string {
  const triple = architecture.name === 'arm64' ? 'aarch64' : 'x86_64';
  if (architecture.name !== 'arm64' && architecture.name !== 'x86_64') {
    throw new RustLambdaCdkError(
      `${what}: unsupported architecture ${architecture.name}`,
      'use Architecture.X86_64 or Architecture.ARM_64',
    );
  }
  if (target === undefined) {
    return `${triple}-unknown-linux-gnu`;
  }
  if (!target.startsWith(`${triple}-`)) {
    throw new RustLambdaCdkError(
      `${what}: bundling.target ${target} is not for the architecture ${architecture.name}`,
      'make them agree: drop bundling.target, or change architecture',
    );
  }
  return target;
}

/** What a construct gets: its code, the bundling options CDK received, the project. */
export interface RustAsset {
  readonly code: AssetCode;
  readonly bundling: CdkBundlingOptions;
  readonly project: RustProject;
}

/** What the construct asks for. */
export interface RustAssetProps {
  readonly entry?: string;
  readonly binaryName?: string;
  readonly projectRoot?: string;
  readonly runtime: LambdaRuntimeName;
  readonly architecture: Architecture;
  readonly bundling: BundlingOptions;
  /** An extension's binary goes to `extensions/<name>`, a function's to `bootstrap`. */
  readonly extension: boolean;
}

/** The asset of one binary: the project resolved, bundled locally or in Docker. */
export function rustAsset(
  scope: IConstruct,
  id: string,
  what: string,
  props: RustAssetProps,
): RustAsset {
  const { bundling } = props;
  const env: Env = { ...process.env, ...bundling.environment };
  const shared = sharedBuildsOf(scope);
  const project = resolveProject({
    id,
    what,
    ...props,
    projects: new Projects(env, shared.workspaces),
  });
  const projectRoot = props.projectRoot ? path.resolve(props.projectRoot) : project.root;
  const rootInProject = path.relative(projectRoot, project.root);
  if (rootInProject.startsWith('..') || path.isAbsolute(rootInProject)) {
    throw new RustLambdaCdkError(
      `${what}: projectRoot ${projectRoot} does not contain the workspace ${project.root}`,
      'drop projectRoot (the workspace root is the default), or pass a directory above it',
    );
  }
  const cdkBundling = cdkBundlingOptions(shared, project, rootInProject, props, env, what);
  const targetInProject = path.relative(projectRoot, project.targetDirectory);
  const code = Code.fromAsset(projectRoot, {
    assetHashType:
      bundling.assetHashType ?? (bundling.assetHash ? AssetHashType.CUSTOM : AssetHashType.OUTPUT),
    assetHash: bundling.assetHash,
    bundling: cdkBundling,
    // a SOURCE hash must not change with every build
    exclude: targetInProject.startsWith('..') ? undefined : [targetInProject],
  });
  return { code, bundling: cdkBundling, project };
}

/** The bundling options CDK receives: Docker's image, command and options, and local bundling. */
function cdkBundlingOptions(
  shared: SharedBuilds,
  project: RustProject,
  rootInProject: string,
  props: RustAssetProps,
  env: Env,
  what: string,
): CdkBundlingOptions {
  const { bundling, architecture } = props;
  const target = targetOf(architecture, bundling.target, what);
  const request: Omit<BuildRequest, 'lambdaDir'> = {
    manifest: path.join(project.root, 'Cargo.toml'),
    target,
    runtime: props.runtime,
    packageManagerType: bundling.packageManagerType,
    features: bundling.features,
    extraBuildArgs: bundling.extraBuildArgs,
    logLevel: bundling.logLevel,
    json: true,
  };
  // Assets share a build when everything that shapes it is the same.
  const key = createHash('sha256')
    .update(JSON.stringify([request, bundling.environment ?? {}, bundling.rustlambdaPath]))
    .digest('hex')
    .slice(0, 12);
  const lambdaDir = path.join(project.targetDirectory, 'lambda-cdk', key);
  const argv = buildArgs({ ...request, lambdaDir }, what);
  const destination = props.extension ? `extensions/${project.binary}` : 'bootstrap';
  const platform = bundling.platform ?? architecture.dockerPlatform;
  const script = dockerBundlingScript({
    request,
    binary: project.binary,
    destination,
    rootInProject,
    hooks: bundling.commandHooks,
    rustlambdaSpec: bundling.buildArgs?.RUSTLAMBDA_SPEC ?? DEFAULT_RUSTLAMBDA_SPEC,
    what,
  });
  return {
    image: bundling.dockerImage ?? defaultBundlingImage(bundling.buildArgs, platform),
    command: bundling.command ?? ['bash', '-c', script],
    entrypoint: bundling.entrypoint,
    environment: bundling.environment,
    volumes: [...cargoCacheVolumes(env), ...(bundling.volumes ?? [])],
    volumesFrom: bundling.volumesFrom,
    user: bundling.user,
    securityOpt: bundling.securityOpt,
    network: bundling.network,
    workingDirectory:
      bundling.workingDirectory ?? path.posix.join(AssetStaging.BUNDLING_INPUT_DIR, rootInProject),
    platform,
    bundlingFileAccess: bundling.bundlingFileAccess,
    local: bundling.forceDockerBundling
      ? undefined
      : new LocalBundling({ shared, project, destination, key, argv, target, bundling, env, what }),
  };
}
