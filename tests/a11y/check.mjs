// Accessibility check of lkk's pages in Debian's headless Chromium (issue 9 part 3, issue 10).
// Run by tests/integration/test_a11y.py, which starts the real nginx, logs a subscriber in and
// passes the job as JSON on stdin:
//   {"base": "http://127.0.0.1:PORT", "cookies": [{"name", "value"}], "outdir": "...",
//    "widths": [360, 1280],
//    "pages": [{"name", "path", "anonymous": bool, "submit": {"field": "value"} | null}]}
// For each page and width it answers (JSON on stdout, one object per page and width):
//   violations  axe-core's WCAG 2.1 A/AA violations (rule id, impact, the elements)
//   csp         Content-Security-Policy violations the page caused (the page is loaded with
//               the CSP enforced; axe is evaluated through DevTools, which CSP does not block)
//   overflow    the page is wider than the window (text cut off or a sideways scroll)
//   status      the HTTP status of the page
//   screenshot  a full-page PNG under outdir
// and, for pages with "keyboard": {"type": TEXT}, the elements Tab reaches in order, each with
// whether the focus is visible (an outline or a box shadow); then the first field named
// "value" is reached with Tab, TEXT typed and Enter pressed ("sent": the answer).
// When "submit" is given, the page's first form is filled with those fields and sent, and the
// page that comes back (an error, say) is checked too.
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const job = JSON.parse(readFileSync(0, "utf8"));
mkdirSync(job.outdir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.LKK_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function audit(page, name, width, status) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth > window.innerWidth + 1);
  const csp = await page.evaluate(() => window.__lkkCsp || []);
  const screenshot = `${job.outdir}/${name}-${width}.png`;
  await page.screenshot({ path: screenshot, fullPage: true });
  return { page: name, width, status, violations: result, csp, overflow, screenshot };
}

async function keyboard(page) {
  const reached = [];
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    const el = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      const s = getComputedStyle(e);
      return {
        tag: e.tagName.toLowerCase(), type: e.getAttribute("type") || "",
        name: e.getAttribute("name") || "",
        text: (e.innerText || e.value || "").trim().slice(0, 60),
        visible: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 ||
          s.boxShadow !== "none",
      };
    });
    if (!el) break;
    reached.push(el);
  }
  return reached;
}

// Reloads the page, tabs to the first field named "value", types into it and presses Enter:
// answers the page that comes back (its status and its first notice).
async function sendWithKeys(page, text) {
  await page.reload({ waitUntil: "load" });
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.getAttribute("name") === "value")) {
      await page.keyboard.type(text);
      const [answer] = await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.keyboard.press("Enter"),
      ]);
      const notice = await page.evaluate(
        () => document.querySelector(".notice, .field-error")?.innerText.trim() || "");
      return { status: answer ? answer.status() : 0, url: page.url(), notice };
    }
  }
  return null;
}

const out = [];
for (const spec of job.pages) {
  for (const width of job.widths) {
    const context = await browser.newContext({
      viewport: { width, height: 800 }, deviceScaleFactor: 1, locale: "ru-RU",
    });
    if (!spec.anonymous) {
      await context.addCookies(job.cookies.map((c) => ({ ...c, url: job.base })));
    }
    await context.addInitScript(() => {
      window.__lkkCsp = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        window.__lkkCsp.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    const page = await context.newPage();
    const response = await page.goto(job.base + spec.path, { waitUntil: "load" });
    const first = await audit(page, spec.name, width, response.status());
    if (spec.keyboard && width === job.widths[0]) {
      first.keyboard = await keyboard(page);
      if (spec.keyboard.type) first.sent = await sendWithKeys(page, spec.keyboard.type);
    }
    out.push(first);
    if (spec.submit) {
      const form = page.locator(`form:has([name="${Object.keys(spec.submit)[0]}"])`).first();
      for (const [field, value] of Object.entries(spec.submit)) {
        await form.locator(`[name="${field}"]`).fill(value, { timeout: 5000 });
      }
      const [answer] = await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        form.locator("button[type=submit]").click({ timeout: 5000 }),
      ]);
      out.push(await audit(page, `${spec.name}-submitted`, width, answer ? answer.status() : 0));
    }
    await context.close();
  }
}
await browser.close();
process.stdout.write(JSON.stringify(out));
