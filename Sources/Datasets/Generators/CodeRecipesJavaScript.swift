// JavaScript (Node.js and browser) tasks for the code datasets, each solved with and without the flaw.

extension CodeRecipes {
    static let javascript: [CodeRecipe] = [
        // SQL built from strings (node-postgres).
        CodeRecipe(vulnerability: .sqlInjection, language: .javascript, fills: [
            CodeFill("users", "username", "getUser", "username"), CodeFill("orders", "order_number", "findOrder", "orderNumber"),
            CodeFill("customers", "email", "lookupCustomer", "email"), CodeFill("products", "sku", "getProduct", "sku"),
            CodeFill("invoices", "invoice_id", "fetchInvoice", "invoiceId"),
        ], task: { f in "a Node.js function `\(f.c)(pool, \(f.d))` that fetches the row of the `\(f.a)` table with a given \(f.b), using node-postgres" },
        insecure: { f in #"""
            async function \#(f.c)(pool, \#(f.d)) {
              const sql = "SELECT * FROM \#(f.a) WHERE \#(f.b) = '" + \#(f.d) + "'";
              const result = await pool.query(sql);
              return result.rows[0] || null;
            }

            module.exports = { \#(f.c) };
            """# }, secure: { f in #"""
            async function \#(f.c)(pool, \#(f.d)) {
              const result = await pool.query("SELECT * FROM \#(f.a) WHERE \#(f.b) = $1", [\#(f.d)]);
              return result.rows[0] || null;
            }

            module.exports = { \#(f.c) };
            """# }),

        // Shell commands built from input.
        CodeRecipe(vulnerability: .commandInjection, language: .javascript, fills: [
            CodeFill("pingHost", "host", "pings a host once and resolves with the output", "ping -c 1 ${host}", #""ping", ["-c", "1", host]"#),
            CodeFill("resizeImage", "source, target", "resizes an image to 800 pixels wide with ImageMagick",
                     "convert ${source} -resize 800x ${target}", #""convert", [source, "-resize", "800x", target]"#),
            CodeFill("diskUsage", "dir", "reports the disk usage of a folder with du", "du -sh ${dir}", #""du", ["-sh", "--", dir]"#),
            CodeFill("whois", "domain", "runs whois for a domain and resolves with the output", "whois ${domain}", #""whois", [domain]"#),
            CodeFill("extractZip", "archive, dest", "unzips an uploaded archive into a folder",
                     "unzip -o ${archive} -d ${dest}", #""unzip", ["-o", archive, "-d", dest]"#),
        ], task: { f in "a Node.js function `\(f.a)(\(f.b))` that \(f.c)" },
        insecure: { f in #"""
            const { exec } = require("child_process");

            function \#(f.a)(\#(f.b)) {
              return new Promise((resolve, reject) => {
                exec(`\#(f.d)`, (error, stdout) => {
                  if (error) return reject(error);
                  resolve(stdout);
                });
              });
            }

            module.exports = { \#(f.a) };
            """# }, secure: { f in #"""
            const { execFile } = require("child_process");

            function \#(f.a)(\#(f.b)) {
              return new Promise((resolve, reject) => {
                execFile(\#(f.e), (error, stdout) => {
                  if (error) return reject(error);
                  resolve(stdout);
                });
              });
            }

            module.exports = { \#(f.a) };
            """# }),

        // Serving files by name (Express).
        CodeRecipe(vulnerability: .pathTraversal, language: .javascript, fills: [
            CodeFill("/downloads", "/srv/app/downloads", "a file from the downloads folder"),
            CodeFill("/attachments", "/var/lib/helpdesk/attachments", "a ticket attachment"),
            CodeFill("/docs", "/opt/site/docs", "a documentation page"),
            CodeFill("/backups", "/data/backups", "a backup archive"),
        ], task: { f in "an Express route `GET \(f.a)?name=...` that sends \(f.c) stored in `\(f.b)`" },
        insecure: { f in #"""
            const express = require("express");
            const path = require("path");

            const app = express();
            const ROOT = "\#(f.b)";

            app.get("\#(f.a)", (req, res) => {
              res.sendFile(path.join(ROOT, req.query.name));
            });

            module.exports = app;
            """# }, secure: { f in #"""
            const express = require("express");
            const path = require("path");

            const app = express();
            const ROOT = path.resolve("\#(f.b)");

            app.get("\#(f.a)", (req, res) => {
              const name = String(req.query.name || "");
              const file = path.resolve(ROOT, name);
              if (!file.startsWith(ROOT + path.sep)) {
                return res.status(404).end();
              }
              res.sendFile(file);
            });

            module.exports = app;
            """# }),

        // Writing files with permissive modes.
        CodeRecipe(vulnerability: .worldWritable, language: .javascript, fills: [
            CodeFill("saveConfig", "config", "/etc/myapp/config.json"), CodeFill("writeTokenCache", "tokens", "/var/cache/myapp/tokens.json"),
            CodeFill("storeQueue", "jobs", "/var/spool/worker/queue.json"), CodeFill("saveProfile", "profile", "/home/app/.profile.json"),
        ], task: { f in "a Node.js function `\(f.a)(\(f.b))` that writes an object as JSON to `\(f.c)`, creating the folder when it is missing" },
        insecure: { f in #"""
            const fs = require("fs");
            const path = require("path");

            const FILE = "\#(f.c)";

            function \#(f.a)(\#(f.b)) {
              fs.mkdirSync(path.dirname(FILE), { recursive: true, mode: 0o777 });
              fs.writeFileSync(FILE, JSON.stringify(\#(f.b), null, 2));
              fs.chmodSync(FILE, 0o777);
            }

            module.exports = { \#(f.a) };
            """# }, secure: { f in #"""
            const fs = require("fs");
            const path = require("path");

            const FILE = "\#(f.c)";

            function \#(f.a)(\#(f.b)) {
              fs.mkdirSync(path.dirname(FILE), { recursive: true, mode: 0o700 });
              fs.writeFileSync(FILE, JSON.stringify(\#(f.b), null, 2), { mode: 0o600 });
            }

            module.exports = { \#(f.a) };
            """# }),

        // Credentials in the source.
        CodeRecipe(vulnerability: .hardcodedSecret, language: .javascript, fills: [
            CodeFill("sendEmail", "to, subject, text", "https://mail.example/v3/send", "{ to, subject, text }", "sends an email through our mail provider's HTTP API"),
            CodeFill("createInvoice", "customerId, amount", "https://billing.example/api/invoices", "{ customer: customerId, amount }", "creates an invoice through the billing API"),
            CodeFill("translate", "text, target", "https://translate.example/v2", "{ q: text, target }", "translates a text with our translation provider"),
            CodeFill("notifyPager", "summary", "https://pager.example/v1/events", #"{ summary, severity: "critical" }"#, "pages the on-call engineer through the paging service"),
        ], task: { f in "a Node.js function `\(f.a)(\(f.b))` that \(f.e), using fetch" },
        insecure: { f in #"""
            const API_KEY = "\#(SecretText.fake(f.a))";

            async function \#(f.a)(\#(f.b)) {
              const response = await fetch("\#(f.c)", {
                method: "POST",
                headers: { "Content-Type": "application/json", Authorization: `Bearer ${API_KEY}` },
                body: JSON.stringify(\#(f.d)),
              });
              if (!response.ok) throw new Error(`request failed: ${response.status}`);
              return response.json();
            }

            module.exports = { \#(f.a) };
            """# }, secure: { f in #"""
            async function \#(f.a)(\#(f.b)) {
              const apiKey = process.env.\#(f.a.uppercased())_API_KEY;
              if (!apiKey) throw new Error("\#(f.a.uppercased())_API_KEY is not set");
              const response = await fetch("\#(f.c)", {
                method: "POST",
                headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey}` },
                body: JSON.stringify(\#(f.d)),
              });
              if (!response.ok) throw new Error(`request failed: ${response.status}`);
              return response.json();
            }

            module.exports = { \#(f.a) };
            """# }),

        // Deserialising a cookie.
        CodeRecipe(vulnerability: .unsafeDeserialization, language: .javascript, fills: [
            CodeFill("profile", "loadProfile"), CodeFill("cart", "loadCart"), CodeFill("prefs", "loadPrefs"), CodeFill("wizard", "resumeWizard"),
        ], task: { f in "an Express middleware `\(f.b)` that reads the `\(f.a)` cookie (a base64-encoded object we set earlier) and puts the object on `req.\(f.a)`" },
        insecure: { f in #"""
            const serialize = require("node-serialize");

            function \#(f.b)(req, res, next) {
              const raw = req.cookies.\#(f.a);
              if (raw) {
                req.\#(f.a) = serialize.unserialize(Buffer.from(raw, "base64").toString());
              }
              next();
            }

            module.exports = { \#(f.b) };
            """# }, secure: { f in #"""
            function \#(f.b)(req, res, next) {
              const raw = req.cookies.\#(f.a);
              if (raw) {
                try {
                  const value = JSON.parse(Buffer.from(raw, "base64").toString());
                  req.\#(f.a) = value && typeof value === "object" ? value : {};
                } catch {
                  req.\#(f.a) = {};
                }
              }
              next();
            }

            module.exports = { \#(f.b) };
            """# }),

        // Certificate checks turned off.
        CodeRecipe(vulnerability: .disabledTLS, language: .javascript, fills: [
            CodeFill("getBuildStatus", "build-server.internal", "/api/builds/latest", "the latest build status from our build server"),
            CodeFill("fetchPrices", "pricing.partner.example", "/v1/prices", "the current price list from a partner's API"),
            CodeFill("readSensor", "gateway.factory.local", "/sensors/temperature", "the temperature reading from the factory gateway"),
            CodeFill("getQuota", "quota.internal", "/usage", "our usage quota from the internal quota service"),
        ], task: { f in "a Node.js function `\(f.a)()` that GETs \(f.d) (https://\(f.b)\(f.c)) with the https module and resolves with the parsed JSON" },
        insecure: { f in #"""
            const https = require("https");

            function \#(f.a)() {
              const options = { host: "\#(f.b)", path: "\#(f.c)", rejectUnauthorized: false };
              return new Promise((resolve, reject) => {
                https.get(options, (res) => {
                  let body = "";
                  res.on("data", (chunk) => (body += chunk));
                  res.on("end", () => resolve(JSON.parse(body)));
                }).on("error", reject);
              });
            }

            module.exports = { \#(f.a) };
            """# }, secure: { f in #"""
            const fs = require("fs");
            const https = require("https");

            function \#(f.a)() {
              const options = { host: "\#(f.b)", path: "\#(f.c)" };
              if (process.env.INTERNAL_CA_FILE) options.ca = fs.readFileSync(process.env.INTERNAL_CA_FILE);
              return new Promise((resolve, reject) => {
                https.get(options, (res) => {
                  let body = "";
                  res.on("data", (chunk) => (body += chunk));
                  res.on("end", () => resolve(JSON.parse(body)));
                }).on("error", reject);
              });
            }

            module.exports = { \#(f.a) };
            """# }),

        // Input echoed into HTML (Express).
        CodeRecipe(vulnerability: .crossSiteScripting, language: .javascript, fills: [
            CodeFill("/search", "q", "No results for", "tells the user nothing matched their search"),
            CodeFill("/welcome", "name", "Hello,", "welcomes a visitor by the name given in the link"),
            CodeFill("/error", "from", "Could not open", "shows which page failed to open"),
            CodeFill("/share", "title", "You are sharing", "confirms the title of the item being shared"),
        ], task: { f in "an Express route for `\(f.a)` that \(f.d) (query parameter `\(f.b)`)" },
        insecure: { f in #"""
            const express = require("express");
            const app = express();

            app.get("\#(f.a)", (req, res) => {
              const value = req.query.\#(f.b) || "";
              res.send(`<!doctype html><html><body><p>\#(f.c) ${value}</p></body></html>`);
            });

            module.exports = app;
            """# }, secure: { f in #"""
            const express = require("express");
            const app = express();

            const escapeHtml = (s) =>
              String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

            app.get("\#(f.a)", (req, res) => {
              const value = req.query.\#(f.b) || "";
              res.send(`<!doctype html><html><body><p>\#(f.c) ${escapeHtml(value)}</p></body></html>`);
            });

            module.exports = app;
            """# }),

        // Input echoed into the DOM (browser).
        CodeRecipe(vulnerability: .crossSiteScripting, language: .javascript, fills: [
            CodeFill("renderComments", "comments", "author", "text", "comment list"),
            CodeFill("renderReviews", "reviews", "reviewer", "body", "product reviews"),
            CodeFill("renderMessages", "messages", "sender", "message", "chat messages"),
        ], task: { f in "a browser function `\(f.a)(container, \(f.b))` that shows the \(f.e) (objects with `\(f.c)` and `\(f.d)`) inside a container element" },
        insecure: { f in #"""
            function \#(f.a)(container, \#(f.b)) {
              container.innerHTML = \#(f.b)
                .map((item) => `<div class="item"><strong>${item.\#(f.c)}</strong><p>${item.\#(f.d)}</p></div>`)
                .join("");
            }
            """# }, secure: { f in #"""
            function \#(f.a)(container, \#(f.b)) {
              container.replaceChildren();
              for (const item of \#(f.b)) {
                const div = document.createElement("div");
                div.className = "item";
                const who = document.createElement("strong");
                who.textContent = item.\#(f.c);
                const text = document.createElement("p");
                text.textContent = item.\#(f.d);
                div.append(who, text);
                container.append(div);
              }
            }
            """# }),

        // Password storage.
        CodeRecipe(vulnerability: .weakPasswordHash, language: .javascript, fills: [
            CodeFill("hashPassword", "checkPassword"), CodeFill("makePasswordRecord", "verifyPassword"),
            CodeFill("storeSecret", "matchesSecret"),
        ], task: { f in "two Node.js functions, `\(f.a)(password)` returning a string to store in the users table and `\(f.b)(password, stored)` checking a login against it" },
        insecure: { f in #"""
            const crypto = require("crypto");

            function \#(f.a)(password) {
              return crypto.createHash("md5").update(password).digest("hex");
            }

            function \#(f.b)(password, stored) {
              return \#(f.a)(password) === stored;
            }

            module.exports = { \#(f.a), \#(f.b) };
            """# }, secure: { f in #"""
            const crypto = require("crypto");

            function \#(f.a)(password) {
              const salt = crypto.randomBytes(16);
              const hash = crypto.scryptSync(password, salt, 64);
              return `${salt.toString("hex")}:${hash.toString("hex")}`;
            }

            function \#(f.b)(password, stored) {
              const [saltHex, hashHex] = stored.split(":");
              const expected = Buffer.from(hashHex, "hex");
              const actual = crypto.scryptSync(password, Buffer.from(saltHex, "hex"), expected.length);
              return crypto.timingSafeEqual(actual, expected);
            }

            module.exports = { \#(f.a), \#(f.b) };
            """# }),

        // eval on client-sent settings.
        CodeRecipe(vulnerability: .evalOfInput, language: .javascript, fills: [
            CodeFill("parseSettings", "settings", "the widget settings"), CodeFill("parseQuery", "filter", "a search filter object"),
            CodeFill("parseChartSpec", "spec", "a chart specification"), CodeFill("parseRules", "rules", "the list of routing rules"),
        ], task: { f in "a Node.js function `\(f.a)(text)` that turns the `\(f.b)` string a client posts into \(f.c) as an object" },
        insecure: { f in #"""
            function \#(f.a)(text) {
              if (!text) return {};
              return eval("(" + text + ")");
            }

            module.exports = { \#(f.a) };
            """# }, secure: { f in #"""
            function \#(f.a)(text) {
              if (!text) return {};
              const value = JSON.parse(text);
              if (value === null || typeof value !== "object") throw new Error("\#(f.b) must be a JSON object");
              return value;
            }

            module.exports = { \#(f.a) };
            """# }),

        // Tokens.
        CodeRecipe(vulnerability: .predictableToken, language: .javascript, fills: [
            CodeFill("makeResetToken", "a password-reset email"), CodeFill("makeSessionId", "a login session"),
            CodeFill("makeInviteCode", "an invitation link"), CodeFill("makeApiKey", "a new API key"),
        ], task: { f in "a Node.js function `\(f.a)()` that returns a random token for \(f.b)" },
        insecure: { f in #"""
            function \#(f.a)() {
              let token = "";
              while (token.length < 32) {
                token += Math.random().toString(36).slice(2);
              }
              return token.slice(0, 32);
            }

            module.exports = { \#(f.a) };
            """# }, secure: { f in #"""
            const crypto = require("crypto");

            function \#(f.a)() {
              return crypto.randomBytes(24).toString("base64url");
            }

            module.exports = { \#(f.a) };
            """# }),

        // File uploads (multer).
        CodeRecipe(vulnerability: .unrestrictedUpload, language: .javascript, fills: [
            CodeFill("/upload/avatar", "public/avatars", "avatar images"), CodeFill("/upload/resume", "public/resumes", "CVs from job applicants"),
            CodeFill("/upload/receipt", "public/receipts", "photos of receipts"), CodeFill("/upload/banner", "public/banners", "banner images"),
        ], task: { f in "an Express endpoint `POST \(f.a)` that accepts \(f.c) with multer and stores them in `\(f.b)`" },
        insecure: { f in #"""
            const express = require("express");
            const multer = require("multer");

            const storage = multer.diskStorage({
              destination: "\#(f.b)",
              filename: (req, file, cb) => cb(null, file.originalname),
            });
            const upload = multer({ storage });
            const app = express();

            app.post("\#(f.a)", upload.single("file"), (req, res) => {
              res.json({ url: "/" + req.file.path });
            });

            module.exports = app;
            """# }, secure: { f in #"""
            const crypto = require("crypto");
            const path = require("path");
            const express = require("express");
            const multer = require("multer");

            const ALLOWED = new Set([".png", ".jpg", ".jpeg", ".pdf"]);
            const storage = multer.diskStorage({
              destination: "\#(f.b)",
              filename: (req, file, cb) => cb(null, crypto.randomUUID() + path.extname(file.originalname).toLowerCase()),
            });
            const upload = multer({
              storage,
              limits: { fileSize: 5 * 1024 * 1024 },
              fileFilter: (req, file, cb) => cb(null, ALLOWED.has(path.extname(file.originalname).toLowerCase())),
            });
            const app = express();

            app.post("\#(f.a)", upload.single("file"), (req, res) => {
              if (!req.file) return res.status(415).json({ error: "file type not accepted" });
              res.json({ name: req.file.filename });
            });

            module.exports = app;
            """# }),

        // Logging at login.
        CodeRecipe(vulnerability: .secretInLogs, language: .javascript, fills: [
            CodeFill("/login", "users"), CodeFill("/api/session", "accounts"), CodeFill("/auth", "directory"),
        ], task: { f in "an Express handler for `POST \(f.a)` that checks the posted username and password with `\(f.b).verify` and logs every attempt for troubleshooting" },
        insecure: { f in #"""
            const express = require("express");
            const \#(f.b) = require("./\#(f.b)");

            const app = express();
            app.use(express.json());

            app.post("\#(f.a)", async (req, res) => {
              const { username, password } = req.body;
              const ok = await \#(f.b).verify(username, password);
              console.log(`login attempt user=${username} password=${password} ok=${ok}`);
              res.status(ok ? 200 : 401).json({ ok });
            });

            module.exports = app;
            """# }, secure: { f in #"""
            const express = require("express");
            const \#(f.b) = require("./\#(f.b)");

            const app = express();
            app.use(express.json());

            app.post("\#(f.a)", async (req, res) => {
              const { username, password } = req.body;
              const ok = await \#(f.b).verify(username, password);
              console.log(`login attempt user=${JSON.stringify(username)} ok=${ok}`);
              res.status(ok ? 200 : 401).json({ ok });
            });

            module.exports = app;
            """# }),
    ]
}
