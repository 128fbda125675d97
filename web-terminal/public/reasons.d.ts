export declare const REASONS: Readonly<Record<string, string>>;
export declare function describeReason(code: string | null | undefined): string;
export declare const STATES: Readonly<Record<string, string>>;
export declare function describeState(state: string): string;
