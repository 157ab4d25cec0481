// The sandbox page's tools for a newcomer (beside the demo sponsor key): the demo partner's key
// and the nightly pass on demand, so history charts and band-change messages can be seen
// without the command line (`britizen score` is the same pass).

import { $ } from "./dom.js";
import { number, t } from "./i18n.js";

let wired = false;

export function showTools(data, { api, toast }) {
  if (data.partner && data.partner.api_key) {
    $("partner-box").hidden = false;
    $("partner-name").textContent = data.partner.name;
    $("partner-key").textContent = data.partner.api_key;
  }
  if (wired) return; // the state is loaded again when the bot's commands came late
  wired = true;
  const button = $("run-pass");
  button.addEventListener("click", async () => {
    button.disabled = true;
    $("pass-result").textContent = t("Running…");
    try {
      const done = await api("/nightly-pass", {});
      const scored = done.users === 1
        ? t("Scored 1 citizen;")
        : t("Scored {count} citizens;", { count: number(done.users) });
      const changes = done.band_changes === 1
        ? t("1 band change.")
        : t("{count} band changes.", { count: number(done.band_changes) });
      $("pass-result").textContent = `${scored} ${changes} ${t("Try /history.")}`;
    } catch (error) {
      $("pass-result").textContent = "";
      toast(error.message);
    } finally {
      button.disabled = false;
    }
  });
}
