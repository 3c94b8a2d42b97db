/**
 * Docker bundling: the bundling image (built from this package's Dockerfile only when Docker
 * bundling actually runs), the bash script the container runs (rustlambda builds the one binary
 * inside the image), and whether a Docker engine answers here.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as os from 'os';
import * as path from 'path';
import {
  AssetStaging,
  DockerBuildOptions,
  DockerImage,
  DockerRunOptions,
  DockerVolume,
} from 'aws-cdk-lib';
import { Env } from './project';
import { BuildRequest, buildArgs, RUSTLAMBDA_VERSION, shellQuote } from './rustlambda';
import { ICommandHooks } from './types';

/** The base of the default bundling image: cargo on Debian bookworm (its `IMAGE` build arg). */
export const DEFAULT_BASE_IMAGE = 'public.ecr.aws/docker/library/rust:1-bookworm';
/** What pip installs in the image (its `RUSTLAMBDA_SPEC` build arg). */
export const DEFAULT_RUSTLAMBDA_SPEC = `rustlambda==${RUSTLAMBDA_VERSION}`;
/** This package's Dockerfile directory. */
export const DOCKERFILE_DIR = path.join(__dirname, '..', 'docker');

const CONTAINER_CARGO_HOME = '/usr/local/cargo';
const CONTAINER_VENV = '/tmp/rustlambda-venv';
const CONTAINER_TARGET_DIR = '/tmp/rustlambda-target';
const CONTAINER_LAMBDA_DIR = '/tmp/rustlambda-lambda';

/**
 * The default bundling image. `DockerImage.fromBuild` runs `docker build` at once; this image
 * builds on its first `run`, so a synth that bundles locally never needs Docker.
 */
export class RustLambdaBundlingImage extends DockerImage {
  public readonly directory: string;
  public readonly buildOptions: DockerBuildOptions;
  #built?: DockerImage;

  constructor(directory: string, buildOptions: DockerBuildOptions) {
    const digest = createHash('sha256')
      .update(JSON.stringify([directory, buildOptions]))
      .digest('hex')
      .slice(0, 16);
    super(`rustlambda-cdk-bundling:${digest}`);
    this.directory = directory;
    this.buildOptions = buildOptions;
  }

  public override run(options?: DockerRunOptions): void {
    this.built().run(options);
  }

  public override cp(imagePath: string, outputPath?: string): string {
    return this.built().cp(imagePath, outputPath);
  }

  private built(): DockerImage {
    this.#built ??= DockerImage.fromBuild(this.directory, this.buildOptions);
    return this.#built;
  }
}

/** The default image with the user's build args over ours; platform from the architecture. */
export function defaultBundlingImage(
  buildArgs: { [key: string]: string } | undefined,
  platform: string,
): RustLambdaBundlingImage {
  return new RustLambdaBundlingImage(DOCKERFILE_DIR, {
    buildArgs: {
      IMAGE: DEFAULT_BASE_IMAGE,
      RUSTLAMBDA_SPEC: DEFAULT_RUSTLAMBDA_SPEC,
      ...buildArgs,
    },
    platform,
  });
}

/** Where the cargo registry and git caches are mounted, so containers reuse downloads. */
export function cargoCacheVolumes(env: Env): DockerVolume[] {
  const home = env.CARGO_HOME ?? path.join(env.HOME ?? os.homedir(), '.cargo');
  return ['registry', 'git'].map((sub) => ({
    hostPath: path.join(home, sub),
    containerPath: `${CONTAINER_CARGO_HOME}/${sub}`,
  }));
}

/** What the container's script needs to know. */
export interface DockerScriptOptions {
  readonly request: Omit<BuildRequest, 'manifest' | 'lambdaDir' | 'binary' | 'targetDir' | 'json'>;
  readonly binary: string;
  /** Where the binary goes inside the asset: `bootstrap` or `extensions/<name>`. */
  readonly destination: string;
  /** The workspace root relative to the mounted project root ('' when they are the same). */
  readonly rootInProject: string;
  readonly hooks?: ICommandHooks;
  /** pip's requirement for rustlambda when the image has none. */
  readonly rustlambdaSpec: string;
  readonly what: string;
}

/**
 * The bash script Docker bundling runs: the before hooks, rustlambda (installed with pip when
 * the image lacks it), the binary copied into the asset, the after hooks; chained with `&&`.
 */
export function dockerBundlingScript(options: DockerScriptOptions): string {
  const input = path.posix.join(AssetStaging.BUNDLING_INPUT_DIR, options.rootInProject);
  const output = AssetStaging.BUNDLING_OUTPUT_DIR;
  const build = buildArgs(
    {
      ...options.request,
      manifest: path.posix.join(input, 'Cargo.toml'),
      binary: options.binary,
      targetDir: CONTAINER_TARGET_DIR,
      lambdaDir: CONTAINER_LAMBDA_DIR,
      json: false,
    },
    options.what,
  );
  const destination = path.posix.join(output, options.destination);
  const installRustlambda =
    'if ! command -v rustlambda >/dev/null 2>&1; then ' +
    '(python3 -m venv --help >/dev/null 2>&1 || ' +
    '(apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null)) && ' +
    `python3 -m venv ${CONTAINER_VENV} && ` +
    `${CONTAINER_VENV}/bin/pip install --quiet ${shellQuote(options.rustlambdaSpec)} && ` +
    `export PATH=${CONTAINER_VENV}/bin:$PATH; fi`;
  const steps = [
    ...(options.hooks?.beforeBundling(input, output) ?? []),
    installRustlambda,
    ['rustlambda', ...build].map(shellQuote).join(' '),
    `mkdir -p ${shellQuote(path.posix.dirname(destination))}`,
    `cp ${CONTAINER_LAMBDA_DIR}/${shellQuote(options.binary)}/bootstrap ${shellQuote(destination)}`,
    `chmod 755 ${shellQuote(destination)}`,
    ...(options.hooks?.afterBundling(input, output) ?? []),
  ];
  return steps.filter((step) => !!step).join(' && ');
}

const dockerAnswers = new Map<string, boolean>();

/** Whether a Docker engine answers (`docker version`), asked once per process. */
export function dockerAvailable(env: Env): boolean {
  const docker = env.CDK_DOCKER ?? 'docker';
  let answer = dockerAnswers.get(docker);
  if (answer === undefined) {
    const done = spawnSync(docker, ['version', '--format', '{{.Server.Version}}'], {
      env: env as NodeJS.ProcessEnv,
      stdio: 'ignore',
      timeout: 30_000,
    });
    answer = !done.error && done.status === 0;
    dockerAnswers.set(docker, answer);
  }
  return answer;
}
