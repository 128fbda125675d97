// The terminal on screen: xterm.js with the bundled fonts (fonts.css), colours that stay readable (a minimum
// contrast, so Claude Code's grey text is legible on either theme), and a fit to its box.
import { Terminal } from '/vendor/xterm/lib/xterm.mjs';
import { FitAddon } from '/vendor/addon-fit/addon-fit.mjs';
import { WebLinksAddon } from '/vendor/addon-web-links/addon-web-links.mjs';

export const TERMINAL_FONT = '"DejaVu Mono", "Terminal Symbols", "Terminal Symbols 2", monospace';

const themes = {
  light: { background: '#fbfbf9', foreground: '#1d1d1b', cursor: '#a84a14', cursorAccent: '#fbfbf9', selectionBackground: '#f0d4c0' },
  dark: { background: '#121211', foreground: '#e8e6df', cursor: '#e07a3f', cursorAccent: '#121211', selectionBackground: '#4a3426' },
};

/** Waits (bounded) for the fonts, so xterm measures its cells with the real font. */
export async function fontsReady() {
  const loads = ['400 14px "DejaVu Mono"', '700 14px "DejaVu Mono"'].map((f) => document.fonts.load(f));
  // The symbol faces load only for their code points; asking now avoids a late re-layout.
  loads.push(document.fonts.load('14px "Terminal Symbols"', '⎿'), document.fonts.load('14px "Terminal Symbols 2"', '⏺'));
  await Promise.race([Promise.allSettled(loads), new Promise((r) => setTimeout(r, 3000))]);
}

export async function createTerminalView(container, theme) {
  await fontsReady();
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: TERMINAL_FONT,
    fontSize: 14,
    lineHeight: 1.15,
    scrollback: 5000,
    minimumContrastRatio: 4.5,
    allowProposedApi: false,
    theme: themes[theme],
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.loadAddon(new WebLinksAddon());
  term.open(container);
  const refit = () => {
    if (container.offsetParent !== null) fit.fit();
  };
  new ResizeObserver(refit).observe(container);
  window.addEventListener('resize', refit);
  return {
    term,
    refit,
    setTheme(name) {
      term.options.theme = themes[name];
    },
  };
}
