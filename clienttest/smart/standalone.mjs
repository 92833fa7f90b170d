// Drives a SMART standalone launch in headless Chromium: the app page
// (fhirclient) redirects to Hearth, the user signs in on Hearth's login
// page, picks the patient (when the user is not a patient themself),
// allows access, and the app reads the Patient.
// Prints the app's result as JSON on stdout.
//
// usage: node standalone.mjs LAUNCH_URL USERNAME PASSWORD PATIENT_ID [CHROMIUM]
import { chromium } from "playwright-core";

const [launchURL, username, password, patientId, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
const step = (s) => process.stderr.write(`step: ${s}\n`);
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  step("open the app's launch page");
  await page.goto(launchURL);
  step("Hearth login page");
  await page.waitForSelector("#username");
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("#signin")]);
  // A clinician picks the patient; a patient user is their own context.
  await page.waitForSelector("#allow, a.patient");
  if (await page.$("a.patient")) {
    step("patient picker");
    await page.click(`a.patient[href$="patient=${patientId}"]`);
  }
  step("consent page");
  await page.waitForSelector("#allow");
  await Promise.all([page.waitForNavigation(), page.click("#allow")]);
  step("back in the app");
  await page.waitForSelector("#out[data-done]");
  process.stdout.write(await page.textContent("#out"));
} catch (err) {
  process.stderr.write(`failed: ${err}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
