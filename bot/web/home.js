// The home page at / in English or Welsh: the same switch and remembered choice as the others.

import { setUpLanguage } from "./i18n.js";

setUpLanguage("home");
