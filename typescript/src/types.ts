/**
 * The public props types: the CDK RustFunction construct's (cdklabs/aws-lambda-rust) bundling
 * options, spelled exactly as there, plus what rustlambda adds (marked "rustlambda's addition").
 */
import { AssetHashType, BundlingFileAccess, DockerImage, DockerRunOptions } from 'aws-cdk-lib';

/**
 * Which cross-compiling build runs the bundling (rustlambda's `--compiler`).
 *
 * The numeric values are the seed construct's, so code passing them keeps working.
 */
export enum PackageManagerType {
  /** cargo-zigbuild (zig links for the runtime's glibc): `--compiler zig`, the default. */
  CARGO_ZIGBUILD = 0,
  /** cross-rs (`cross build` in its own container; needs Docker): `--compiler cross`. */
  CROSS = 1,
  /**
   * Plain `cargo build` with the target's system linker (e.g. `aarch64-linux-gnu-gcc`):
   * `--compiler cargo`, cargo-lambda's `cargo` compiler. rustlambda's addition.
   */
  CARGO = 2,
}

/** How much of the build's output is shown during synth. */
export enum LogLevel {
  /** Everything: cargo's output is streamed (rustlambda `-v`) and printed. */
  VERBOSE = 'verbose',
  /** Warnings and rustlambda's notes (the default). */
  INFO = 'info',
  /** Nothing unless the build fails (rustlambda `-q`). */
  SILENT = 'silent',
}

/**
 * Commands run around the build, locally (on this machine) or inside the container (Docker
 * bundling). Commands are chained with `&&`.
 *
 * `inputDir` is the directory holding the workspace's `Cargo.lock` (the workspace root: the
 * host path locally, `/asset-input/...` in Docker); `outputDir` is the asset's directory.
 */
export interface ICommandHooks {
  /** Commands to run before the build of this asset. */
  beforeBundling(inputDir: string, outputDir: string): string[];
  /** Commands to run after this asset's binary is in `outputDir`. */
  afterBundling(inputDir: string, outputDir: string): string[];
}

/**
 * Bundling options of RustFunction and RustExtension: the seed construct's, same names.
 *
 * The Docker run options (`environment`, `volumes`, `volumesFrom`, `network`, `securityOpt`,
 * `user`, `workingDirectory`, `platform`, `entrypoint`, `command`) apply to Docker bundling;
 * `environment` also reaches the local build.
 */
export interface BundlingOptions extends DockerRunOptions {
  /**
   * Target triple (e.g. `aarch64-unknown-linux-gnu`, or with a glibc suffix
   * `aarch64-unknown-linux-gnu.2.26`); must match the construct's `architecture`.
   *
   * @default - the architecture's gnu target
   */
  readonly target?: string;
  /** Features to activate (`--features a,b`). */
  readonly features?: string[];
  /** @default PackageManagerType.CARGO_ZIGBUILD (or the Cargo.toml's `compiler` metadata) */
  readonly packageManagerType?: PackageManagerType;
  /** Bundle in Docker even if rustlambda and cargo are available here. @default false */
  readonly forceDockerBundling?: boolean;
  /**
   * The image Docker bundling runs in; rustlambda is installed in it when it lacks one.
   *
   * @default - built from this package's `docker/Dockerfile` (Rust on Debian + rustlambda)
   */
  readonly dockerImage?: DockerImage;
  /**
   * More build arguments, e.g. `--all-features`. rustlambda's own flags (`--profile`,
   * `--disable-optimizations`, `--locked`, ...) go to rustlambda, every other flag
   * (`--config k=v`, `-Z...`, `--timings`) is passed to cargo as it is.
   */
  readonly extraBuildArgs?: string[];
  /**
   * Build arguments for the default bundling image (`docker build --build-arg`): `IMAGE` (the
   * base image) and `RUSTLAMBDA_SPEC` (what pip installs, e.g. `rustlambda==0.1.0`).
   */
  readonly buildArgs?: { [key: string]: string };
  /** @default AssetHashType.OUTPUT (CUSTOM when `assetHash` is given) */
  readonly assetHashType?: AssetHashType;
  /** A custom asset hash (with `assetHashType` CUSTOM). */
  readonly assetHash?: string;
  readonly commandHooks?: ICommandHooks;
  /** @default BundlingFileAccess.BIND_MOUNT */
  readonly bundlingFileAccess?: BundlingFileAccess;
  /** @default LogLevel.INFO */
  readonly logLevel?: LogLevel;
  /**
   * The rustlambda executable for local bundling. rustlambda's addition.
   *
   * @default - `$RUSTLAMBDA`, else `rustlambda` on PATH
   */
  readonly rustlambdaPath?: string;
}
