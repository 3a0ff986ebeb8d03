import { chromium } from 'playwright-core';
const B = 'http://127.0.0.1:18931';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
async function session(email, lang) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: lang });
  const page = await ctx.newPage();
  await page.goto(`${B}/login?lang=${lang}`);
  await page.fill('#login-email', email); await page.fill('#login-password', 'kefu-demo-2026');
  await Promise.all([page.waitForNavigation(), page.click('#login-submit')]);
  return page;
}
const shots = JSON.parse(process.argv[2]);
for (const [email, lang, items] of shots) {
  const page = await session(email, lang);
  for (const [path, name, full] of items) {
    await page.goto(`${B}${path}`);
    await page.screenshot({ path: `/tmp/kefu-shots/${name}.png`, fullPage: !!full });
  }
}
const anon = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
await anon.goto(`${B}/login?lang=zh-TW`); await anon.screenshot({ path: '/tmp/kefu-shots/login-tw.png' });
await browser.close();
