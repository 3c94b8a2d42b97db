/**
 * RustFunction: a lambda.Function running a Rust binary as `bootstrap` on an OS-only runtime;
 * the seed construct's props, every other `lambda.Function` prop passed through.
 */
import { BundlingOptions as CdkBundlingOptions } from 'aws-cdk-lib';
import { Architecture, Function, FunctionOptions, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { rustAsset } from './bundling';
import { RustLambdaCdkError } from './errors';
import { LambdaRuntimeName } from './rustlambda';
import { BundlingOptions } from './types';

/** Properties of a RustFunction: the seed construct's, plus every `lambda.Function` option. */
export interface RustFunctionProps extends FunctionOptions {
  /**
   * A Cargo.toml, or the directory holding it.
   *
   * @default - `defining-file.id/Cargo.toml` (for `new RustFunction(this, 'my_function')` in
   * `stack.ts`: `stack.my_function/Cargo.toml`); if there is none and `binaryName` is given, the
   * nearest Cargo workspace at or above the defining file's directory that has that binary
   */
  readonly entry?: string;
  /**
   * The binary to run.
   *
   * @default - the package's binary named like the package, or its only binary
   */
  readonly binaryName?: string;
  /**
   * provided.al2023 or provided.al2 (it also selects the glibc the binary is linked against).
   *
   * @default Runtime.PROVIDED_AL2023
   */
  readonly runtime?: Runtime;
  readonly bundling?: BundlingOptions;
  /**
   * The directory CDK mounts into the bundling container (and hashes for
   * `AssetHashType.SOURCE`); it must contain the workspace.
   *
   * @default - the workspace root (the directory of Cargo.lock)
   */
  readonly projectRoot?: string;
}

/** The runtime and its name, if it is an OS-only runtime a Rust bootstrap runs on. */
export function customRuntime(
  runtime: Runtime | undefined,
  what: string,
): { runtime: Runtime; name: LambdaRuntimeName } {
  const chosen = runtime ?? Runtime.PROVIDED_AL2023;
  if (chosen.name !== 'provided.al2023' && chosen.name !== 'provided.al2') {
    throw new RustLambdaCdkError(
      `${what}: runtime ${chosen.name} is not an OS-only custom runtime a Rust bootstrap runs on`,
      'drop runtime (provided.al2023 is the default) or pass Runtime.PROVIDED_AL2',
    );
  }
  return { runtime: chosen, name: chosen.name };
}

/** A Lambda function from a Rust binary: handler `bootstrap`, provided.al2023 by default. */
export class RustFunction extends Function {
  /** The binary this function runs. */
  public readonly binaryName: string;
  /** The bundling options CDK received (Docker image, command, local bundling). */
  public readonly bundlingOptions: CdkBundlingOptions;

  constructor(scope: Construct, id: string, props: RustFunctionProps = {}) {
    const { entry, binaryName, runtime, bundling, projectRoot, ...functionOptions } = props;
    const what = `RustFunction '${id}'`;
    for (const reserved of ['code', 'handler']) {
      if (reserved in functionOptions) {
        throw new RustLambdaCdkError(
          `${what}: ${reserved} is set by RustFunction`,
          'drop it: the code is the bundled bootstrap, the handler "bootstrap"',
        );
      }
    }
    const custom = customRuntime(runtime, what);
    const architecture = props.architecture ?? Architecture.X86_64;
    const asset = rustAsset(scope, id, what, {
      entry,
      binaryName,
      projectRoot,
      runtime: custom.name,
      architecture,
      bundling: bundling ?? {},
      extension: false,
    });
    super(scope, id, {
      ...functionOptions,
      architecture,
      runtime: custom.runtime,
      code: asset.code,
      handler: 'bootstrap',
    });
    this.binaryName = asset.project.binary;
    this.bundlingOptions = asset.bundling;
  }
}
