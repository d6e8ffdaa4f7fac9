// Errors raised for selector text that does not parse.

/** A selector that does not follow Calico's selector grammar. */
export class SelectorParseError extends Error {
  readonly code = 'SELECTOR_PARSE' as const;
  /** 0-based offset (UTF-16 code units) into `selector` of the offending token or character. */
  readonly position: number;
  /** The selector text as given. */
  readonly selector: string;

  constructor(selector: string, position: number, message: string) {
    super(message);
    this.name = 'SelectorParseError';
    this.selector = selector;
    this.position = position;
  }
}
