import htm from 'htm';
import { h } from 'preact';

// htm builds vnodes, never HTML strings: a value in ${…} is a text node or an attribute value,
// so a model-written title can never turn into markup.
export const html = htm.bind(h);
