export { editDistance } from './edit-distance.ts';
export { parseJsonOrNull } from './parse-json-or-null.ts';
