import { CONSOLE_CSS } from './console-css';
import { CONSOLE_JS } from './console-js';

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1677ff"/><path d="M6 15.5 26 7l-6.5 18-4.2-6.8z" fill="#fff"/></svg>`;

/**
 * The console's static files, served by the console itself from these TS string modules so
 * that `tsc` ships them in dist/ and nothing is ever fetched from outside the gateway.
 */
export const ASSETS: Readonly<Record<string, { body: string; type: string }>> = {
  '/assets/console.css': { body: CONSOLE_CSS, type: 'text/css; charset=utf-8' },
  '/assets/console.js': { body: CONSOLE_JS, type: 'text/javascript; charset=utf-8' },
  '/assets/favicon.svg': { body: FAVICON, type: 'image/svg+xml' },
};
