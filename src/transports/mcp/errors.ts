import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { ERROR_TABLE } from '../../cmp/error-table.js';
import { isCmpError, type CmpError } from '../../cmp/errors.js';

// CMP failures as the MCP errors a tool caller sees (the SDK turns them into `isError` tool results);
// which kind each code is, is the error table's `mcp` column (cmp/error-table.ts).

/** The text of a failure the caller can only wait out or fix outside the conversation; undefined otherwise. */
function fixedText(error: CmpError): string | undefined {
  const retryAfter = error.retryAfter ?? 1;
  switch (ERROR_TABLE[error.code].mcp) {
    case 'rate_limited':
      return `Rate limited. Retry after ${retryAfter} seconds.`;
    case 'unauthorized':
      return 'Unauthorized';
    case 'busy':
      return `${error.code}: busy. Retry after ${retryAfter} seconds.`;
    default:
      return undefined;
  }
}

/** A CMP failure as the MCP error the caller sees (the SDK turns it into an `isError` tool result). */
export function toMcpError(error: unknown): McpError {
  if (error instanceof McpError) return error;
  if (isCmpError(error)) {
    if (ERROR_TABLE[error.code].mcp === 'invalid_params') return new McpError(ErrorCode.InvalidParams, `${error.code}: ${error.message}`);
    return new McpError(ErrorCode.InternalError, fixedText(error) ?? `${error.code}: ${error.message}`);
  }
  return new McpError(ErrorCode.InternalError, 'An internal error occurred');
}

/** The caller's arguments are wrong, in words the model can act on. */
export function invalid(message: string): McpError {
  return new McpError(ErrorCode.InvalidParams, message);
}
