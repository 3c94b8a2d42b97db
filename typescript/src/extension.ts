/**
 * RustExtension: a lambda.LayerVersion holding a Rust binary at `extensions/<name>`, where Lambda
 * starts external extensions.
 */
import { BundlingOptions as CdkBundlingOptions } from 'aws-cdk-lib';
import {
  Architecture,
  LayerVersion,
  LayerVersionOptions,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { rustAsset } from './bundling';
import { customRuntime } from './function';
import { BundlingOptions } from './types';

/** Properties of a RustExtension: RustFunction's Rust props plus the layer's options. */
export interface RustExtensionProps extends LayerVersionOptions {
  /** A Cargo.toml, or the directory holding it (looked up as RustFunction's `entry`). */
  readonly entry?: string;
  /** The extension's binary (also its name under `extensions/`). */
  readonly binaryName?: string;
  /**
   * The runtime it is built for (the glibc it is linked against).
   *
   * @default Runtime.PROVIDED_AL2023
   */
  readonly runtime?: Runtime;
  /** @default Architecture.X86_64 */
  readonly architecture?: Architecture;
  readonly bundling?: BundlingOptions;
  /** As RustFunction's `projectRoot`. */
  readonly projectRoot?: string;
  /**
   * @default - the runtime it is built for; a provided.al2 build (glibc 2.26) also runs on
   * provided.al2023, not the other way round
   */
  readonly compatibleRuntimes?: Runtime[];
  /** @default - its architecture */
  readonly compatibleArchitectures?: Architecture[];
}

/** A Lambda layer with a Rust external extension at `extensions/<binaryName>`. */
export class RustExtension extends LayerVersion {
  /** The extension's binary name. */
  public readonly binaryName: string;
  /** The bundling options CDK received. */
  public readonly bundlingOptions: CdkBundlingOptions;

  constructor(scope: Construct, id: string, props: RustExtensionProps = {}) {
    const { entry, binaryName, runtime, architecture, bundling, projectRoot, ...layerOptions } =
      props;
    const what = `RustExtension '${id}'`;
    const custom = customRuntime(runtime, what);
    const arch = architecture ?? Architecture.X86_64;
    const asset = rustAsset(scope, id, what, {
      entry,
      binaryName,
      projectRoot,
      runtime: custom.name,
      architecture: arch,
      bundling: bundling ?? {},
      extension: true,
    });
    super(scope, id, {
      ...layerOptions,
      compatibleArchitectures: props.compatibleArchitectures ?? [arch],
      compatibleRuntimes:
        props.compatibleRuntimes ??
        (custom.name === 'provided.al2'
          ? [Runtime.PROVIDED_AL2, Runtime.PROVIDED_AL2023]
          : [Runtime.PROVIDED_AL2023]),
      code: asset.code,
    });
    this.binaryName = asset.project.binary;
    this.bundlingOptions = asset.bundling;
  }
}
