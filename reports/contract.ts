import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * The files TrustLab writes and reads back are contracts with a JSON Schema each
 * (`reports/schemas/`); every reader checks what it reads against them with ajv, so a foreign,
 * truncated or old-format file is named with the line and the field instead of being misread.
 */
// strictRequired off: an anyOf branch may require a field declared beside it, not inside it.
const ajv = new Ajv({
  allErrors: false,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
  verbose: true,
});

function load(name: string): ValidateFunction {
  return compileSchemaFile(new URL(`./schemas/${name}.schema.json`, import.meta.url));
}

function compileSchemaFile(url: URL): ValidateFunction {
  return ajv.compile(JSON.parse(readFileSync(url, 'utf8')));
}

/**
 * A contract whose schema lives beside the type it describes (outside reports/): the function gives
 * null when a value meets it, else the first problem naming the field.
 */
export function schemaChecker(url: URL): (value: unknown) => string | null {
  const validate = compileSchemaFile(url);
  return (value) => {
    if (validate(value)) return null;
    const error = validate.errors?.[0];
    return error ? describe(error) : 'does not meet its schema';
  };
}

const validators = new Map<string, ValidateFunction>();

/** The schemas by name; each compiled once, on first use. */
export type ContractName =
  | 'case-record'
  | 'trust-model'
  | 'run-manifest'
  | 'baseline-meta'
  | 'case-behaviour'
  | 'harness-faults'
  | 'limbo-result';

/** Reads a JSON file and checks it against its contract; a clear error names the file and the field. */
export function readContractFile(file: string, name: ContractName): unknown {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message}); the file is left as it is`);
  }
  const problem = contractProblem(name, value);
  if (problem) throw new Error(`${file}: not a TrustLab ${name} file: ${problem}; the file is left as it is`);
  return value;
}

/** One error in a person's words: the field (a JSON pointer, `/server/handshake`) and what is wrong. */
function describe(error: ErrorObject): string {
  const field = error.instancePath || '/';
  if (error.schemaPath.includes('/anyOf/'))
    return `${field}: needs an id (or, from an older harness, a question)`;
  if (error.keyword === 'required')
    return `${error.instancePath}/${(error.params as { missingProperty: string }).missingProperty}: missing`;
  if (error.keyword === 'enum')
    return `${field}: ${JSON.stringify(error.data)} is not one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return `${field}: ${error.message ?? error.keyword}`;
}

/** Null when the value meets the contract; otherwise the first problem, naming the field. */
export function contractProblem(name: ContractName, value: unknown): string | null {
  let validate = validators.get(name);
  if (!validate) {
    validate = load(name);
    validators.set(name, validate);
  }
  if (validate(value)) return null;
  const error = validate.errors?.[0];
  return error ? describe(error) : 'does not meet its schema';
}
