/**
 * A TypeScript CDK app as a user writes one, over the repository's examples/hello-world
 * workspace (functions greet and reverse). tests/integration/test_cdk_typescript.py copies the
 * compiled app.js to `<copy of hello-world>/infra/app.js` and runs `node infra/app.js`: the
 * functions without `entry` are the seed README's workspace example (binaryName only; the
 * workspace is found above this file).
 *
 * Environment: CDK_OUTDIR (the cloud assembly), HOOK_LOG (the hooks append to it),
 * EXTENSION_WORKSPACE (a workspace with the `probe-ext` extension: tests/fixtures/std-workspace).
 */
import * as path from 'path';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { ICommandHooks, RustExtension, RustFunction } from 'rustlambda-cdk';

/** Hooks with a visible effect: a line in HOOK_LOG each, and a file in the asset. */
class LoggingHooks implements ICommandHooks {
  constructor(
    private readonly name: string,
    private readonly log: string,
  ) {}

  beforeBundling(inputDir: string): string[] {
    return [`echo "before ${this.name} $(ls ${inputDir} | tr '\\n' ' ')" >> ${this.log}`];
  }

  afterBundling(_inputDir: string, outputDir: string): string[] {
    return [
      `echo "after ${this.name}" >> ${this.log}`,
      `echo ${this.name} > ${outputDir}/hooked.txt`,
    ];
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

class HelloStack extends Stack {
  constructor(scope: App, id: string) {
    super(scope, id);
    const log = required('HOOK_LOG');
    const workspace = path.resolve(__dirname, '..');
    const probe = new RustExtension(this, 'Probe', {
      entry: required('EXTENSION_WORKSPACE'),
      binaryName: 'probe-ext',
      architecture: Architecture.ARM_64,
    });
    const functions = [
      new RustFunction(this, 'Greet', {
        binaryName: 'greet',
        memorySize: 256,
        timeout: Duration.seconds(5),
        environment: { LOG_LEVEL: 'info' },
        bundling: { commandHooks: new LoggingHooks('Greet', log) },
      }),
      new RustFunction(this, 'Reverse', { entry: workspace, binaryName: 'reverse' }),
      new RustFunction(this, 'GreetArm', {
        binaryName: 'greet',
        architecture: Architecture.ARM_64,
        layers: [probe],
      }),
      new RustFunction(this, 'ReverseArm', {
        entry: path.join(workspace, 'functions', 'reverse', 'Cargo.toml'),
        architecture: Architecture.ARM_64,
        bundling: { commandHooks: new LoggingHooks('ReverseArm', log) },
      }),
    ];
    for (const fn of functions) {
      new CfnOutput(this, `${fn.node.id}Name`, { value: fn.functionName });
    }
  }
}

// asset metadata (aws:asset:path) is what the cdk CLI asks for too
const app = new App({ context: { 'aws:cdk:enable-asset-metadata': true } });
new HelloStack(app, 'RustLambdaHelloTs');
app.synth();
