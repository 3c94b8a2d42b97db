/** rustlambda-cdk: the CDK RustFunction construct's API, bundled by rustlambda. */
export { rustlambdaBuilds, targetOf } from './bundling';
export {
  DEFAULT_BASE_IMAGE,
  DEFAULT_RUSTLAMBDA_SPEC,
  RustLambdaBundlingImage,
  dockerBundlingScript,
} from './docker';
export { RustLambdaCdkError } from './errors';
export { RustExtension, RustExtensionProps } from './extension';
export { RustFunction, RustFunctionProps } from './function';
export { RUSTLAMBDA_VERSION, buildArgs, compilerOf, splitBuildArgs } from './rustlambda';
export { BundlingOptions, ICommandHooks, LogLevel, PackageManagerType } from './types';
