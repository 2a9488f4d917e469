import { styleText } from 'node:util';

export type Style = 'bold' | 'dim' | 'cyan' | 'green' | 'yellow' | 'red';

/** Colours a string, or leaves it plain: the caller decided once whether this terminal gets colour. */
export type Paint = (style: Style, text: string) => string;

/**
 * Colour only on a terminal, and never when NO_COLOR is set to anything but the empty string
 * (no-color.org). The environment is the command's, not necessarily this process's: tests pass one.
 */
export function paintFor(env: NodeJS.ProcessEnv, isTty: boolean): Paint {
  const noColor = env.NO_COLOR;
  if (!isTty || (noColor !== undefined && noColor !== '')) return (_style, text) => text;
  return (style, text) => styleText(style, text, { validateStream: false });
}

export const plainPaint: Paint = (_style, text) => text;
