// JavaScript (Node.js and browser) tasks for the code datasets, each solved with and without the flaw.

extension CodeRecipes {
    static let javascript: [CodeRecipe] = [
        // SQL built from strings (node-postgres).
        CodeRecipe(vulnerability: .sqlInjection, language: .javascript, fills: [
            (table: "users", column: "username", function: "getUser", parameter: "username"),
            (table: "orders", column: "order_number", function: "findOrder", parameter: "orderNumber"),
            (table: "customers", column: "email", function: "lookupCustomer", parameter: "email"),
            (table: "products", column: "sku", function: "getProduct", parameter: "sku"),
            (table: "invoices", column: "invoice_id", function: "fetchInvoice", parameter: "invoiceId"),
        ], task: { f in "a Node.js function `\(f.function)(pool, \(f.parameter))` that fetches the row of the `\(f.table)` table with a given \(f.column), using node-postgres" },
        insecure: { f in #"""
            async function \#(f.function)(pool, \#(f.parameter)) {
              const sql = "SELECT * FROM \#(f.table) WHERE \#(f.column) = '" + \#(f.parameter) + "'";
              const result = await pool.query(sql);
              return result.rows[0] || null;
            }

            module.exports = { \#(f.function) };
            """# }, secure: { f in #"""
            async function \#(f.function)(pool, \#(f.parameter)) {
              const result = await pool.query("SELECT * FROM \#(f.table) WHERE \#(f.column) = $1", [\#(f.parameter)]);
              return result.rows[0] || null;
            }

            module.exports = { \#(f.function) };
            """# }),

        // Shell commands built from input.
        CodeRecipe(vulnerability: .commandInjection, language: .javascript, fills: [
            (function: "pingHost", parameters: "host", purpose: "pings a host once and resolves with the output",
             shellCommand: "ping -c 1 ${host}", arguments: #""ping", ["-c", "1", host]"#),
            (function: "resizeImage", parameters: "source, target", purpose: "resizes an image to 800 pixels wide with ImageMagick",
             shellCommand: "convert ${source} -resize 800x ${target}", arguments: #""convert", [source, "-resize", "800x", target]"#),
            (function: "diskUsage", parameters: "dir", purpose: "reports the disk usage of a folder with du",
             shellCommand: "du -sh ${dir}", arguments: #""du", ["-sh", "--", dir]"#),
            (function: "whois", parameters: "domain", purpose: "runs whois for a domain and resolves with the output",
             shellCommand: "whois ${domain}", arguments: #""whois", [domain]"#),
            (function: "extractZip", parameters: "archive, dest", purpose: "unzips an uploaded archive into a folder",
             shellCommand: "unzip -o ${archive} -d ${dest}", arguments: #""unzip", ["-o", archive, "-d", dest]"#),
        ], task: { f in "a Node.js function `\(f.function)(\(f.parameters))` that \(f.purpose)" },
        insecure: { f in #"""
            const { exec } = require("child_process");

            function \#(f.function)(\#(f.parameters)) {
              return new Promise((resolve, reject) => {
                exec(`\#(f.shellCommand)`, (error, stdout) => {
                  if (error) return reject(error);
                  resolve(stdout);
                });
              });
            }

            module.exports = { \#(f.function) };
            """# }, secure: { f in #"""
            const { execFile } = require("child_process");

            function \#(f.function)(\#(f.parameters)) {
              return new Promise((resolve, reject) => {
                execFile(\#(f.arguments), (error, stdout) => {
                  if (error) return reject(error);
                  resolve(stdout);
                });
              });
            }

            module.exports = { \#(f.function) };
            """# }),

        // Serving files by name (Express).
        CodeRecipe(vulnerability: .pathTraversal, language: .javascript, fills: [
            (route: "/downloads", folder: "/srv/app/downloads", fileKind: "a file from the downloads folder"),
            (route: "/attachments", folder: "/var/lib/helpdesk/attachments", fileKind: "a ticket attachment"),
            (route: "/docs", folder: "/opt/site/docs", fileKind: "a documentation page"),
            (route: "/backups", folder: "/data/backups", fileKind: "a backup archive"),
        ], task: { f in "an Express route `GET \(f.route)?name=...` that sends \(f.fileKind) stored in `\(f.folder)`" },
        insecure: { f in #"""
            const express = require("express");
            const path = require("path");

            const app = express();
            const ROOT = "\#(f.folder)";

            app.get("\#(f.route)", (req, res) => {
              res.sendFile(path.join(ROOT, req.query.name));
            });

            module.exports = app;
            """# }, secure: { f in #"""
            const express = require("express");
            const path = require("path");

            const app = express();
            const ROOT = path.resolve("\#(f.folder)");

            app.get("\#(f.route)", (req, res) => {
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
            (function: "saveConfig", parameter: "config", path: "/etc/myapp/config.json"),
            (function: "writeTokenCache", parameter: "tokens", path: "/var/cache/myapp/tokens.json"),
            (function: "storeQueue", parameter: "jobs", path: "/var/spool/worker/queue.json"),
            (function: "saveProfile", parameter: "profile", path: "/home/app/.profile.json"),
        ], task: { f in "a Node.js function `\(f.function)(\(f.parameter))` that writes an object as JSON to `\(f.path)`, creating the folder when it is missing" },
        insecure: { f in #"""
            const fs = require("fs");
            const path = require("path");

            const FILE = "\#(f.path)";

            function \#(f.function)(\#(f.parameter)) {
              fs.mkdirSync(path.dirname(FILE), { recursive: true, mode: 0o777 });
              fs.writeFileSync(FILE, JSON.stringify(\#(f.parameter), null, 2));
              fs.chmodSync(FILE, 0o777);
            }

            module.exports = { \#(f.function) };
            """# }, secure: { f in #"""
            const fs = require("fs");
            const path = require("path");

            const FILE = "\#(f.path)";

            function \#(f.function)(\#(f.parameter)) {
              fs.mkdirSync(path.dirname(FILE), { recursive: true, mode: 0o700 });
              fs.writeFileSync(FILE, JSON.stringify(\#(f.parameter), null, 2), { mode: 0o600 });
            }

            module.exports = { \#(f.function) };
            """# }),

        // Credentials in the source.
        CodeRecipe(vulnerability: .hardcodedSecret, language: .javascript, fills: [
            (function: "sendEmail", parameters: "to, subject, text", url: "https://mail.example/v3/send", body: "{ to, subject, text }",
             purpose: "sends an email through our mail provider's HTTP API"),
            (function: "createInvoice", parameters: "customerId, amount", url: "https://billing.example/api/invoices",
             body: "{ customer: customerId, amount }", purpose: "creates an invoice through the billing API"),
            (function: "translate", parameters: "text, target", url: "https://translate.example/v2", body: "{ q: text, target }",
             purpose: "translates a text with our translation provider"),
            (function: "notifyPager", parameters: "summary", url: "https://pager.example/v1/events",
             body: #"{ summary, severity: "critical" }"#, purpose: "pages the on-call engineer through the paging service"),
        ], task: { f in "a Node.js function `\(f.function)(\(f.parameters))` that \(f.purpose), using fetch" },
        insecure: { f in #"""
            const API_KEY = "\#(SecretText.fake(f.function))";

            async function \#(f.function)(\#(f.parameters)) {
              const response = await fetch("\#(f.url)", {
                method: "POST",
                headers: { "Content-Type": "application/json", Authorization: `Bearer ${API_KEY}` },
                body: JSON.stringify(\#(f.body)),
              });
              if (!response.ok) throw new Error(`request failed: ${response.status}`);
              return response.json();
            }

            module.exports = { \#(f.function) };
            """# }, secure: { f in #"""
            async function \#(f.function)(\#(f.parameters)) {
              const apiKey = process.env.\#(f.function.uppercased())_API_KEY;
              if (!apiKey) throw new Error("\#(f.function.uppercased())_API_KEY is not set");
              const response = await fetch("\#(f.url)", {
                method: "POST",
                headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey}` },
                body: JSON.stringify(\#(f.body)),
              });
              if (!response.ok) throw new Error(`request failed: ${response.status}`);
              return response.json();
            }

            module.exports = { \#(f.function) };
            """# }),

        // Deserialising a cookie.
        CodeRecipe(vulnerability: .unsafeDeserialization, language: .javascript, fills: [
            (cookie: "profile", middleware: "loadProfile"),
            (cookie: "cart", middleware: "loadCart"),
            (cookie: "prefs", middleware: "loadPrefs"),
            (cookie: "wizard", middleware: "resumeWizard"),
        ], task: { f in "an Express middleware `\(f.middleware)` that reads the `\(f.cookie)` cookie (a base64-encoded object we set earlier) and puts the object on `req.\(f.cookie)`" },
        insecure: { f in #"""
            const serialize = require("node-serialize");

            function \#(f.middleware)(req, res, next) {
              const raw = req.cookies.\#(f.cookie);
              if (raw) {
                req.\#(f.cookie) = serialize.unserialize(Buffer.from(raw, "base64").toString());
              }
              next();
            }

            module.exports = { \#(f.middleware) };
            """# }, secure: { f in #"""
            function \#(f.middleware)(req, res, next) {
              const raw = req.cookies.\#(f.cookie);
              if (raw) {
                try {
                  const value = JSON.parse(Buffer.from(raw, "base64").toString());
                  req.\#(f.cookie) = value && typeof value === "object" ? value : {};
                } catch {
                  req.\#(f.cookie) = {};
                }
              }
              next();
            }

            module.exports = { \#(f.middleware) };
            """# }),

        // Certificate checks turned off.
        CodeRecipe(vulnerability: .disabledTLS, language: .javascript, fills: [
            (function: "getBuildStatus", host: "build-server.internal", path: "/api/builds/latest",
             resource: "the latest build status from our build server"),
            (function: "fetchPrices", host: "pricing.partner.example", path: "/v1/prices",
             resource: "the current price list from a partner's API"),
            (function: "readSensor", host: "gateway.factory.local", path: "/sensors/temperature",
             resource: "the temperature reading from the factory gateway"),
            (function: "getQuota", host: "quota.internal", path: "/usage", resource: "our usage quota from the internal quota service"),
        ], task: { f in "a Node.js function `\(f.function)()` that GETs \(f.resource) (https://\(f.host)\(f.path)) with the https module and resolves with the parsed JSON" },
        insecure: { f in #"""
            const https = require("https");

            function \#(f.function)() {
              const options = { host: "\#(f.host)", path: "\#(f.path)", rejectUnauthorized: false };
              return new Promise((resolve, reject) => {
                https.get(options, (res) => {
                  let body = "";
                  res.on("data", (chunk) => (body += chunk));
                  res.on("end", () => resolve(JSON.parse(body)));
                }).on("error", reject);
              });
            }

            module.exports = { \#(f.function) };
            """# }, secure: { f in #"""
            const fs = require("fs");
            const https = require("https");

            function \#(f.function)() {
              const options = { host: "\#(f.host)", path: "\#(f.path)" };
              if (process.env.INTERNAL_CA_FILE) options.ca = fs.readFileSync(process.env.INTERNAL_CA_FILE);
              return new Promise((resolve, reject) => {
                https.get(options, (res) => {
                  let body = "";
                  res.on("data", (chunk) => (body += chunk));
                  res.on("end", () => resolve(JSON.parse(body)));
                }).on("error", reject);
              });
            }

            module.exports = { \#(f.function) };
            """# }),

        // Input echoed into HTML (Express).
        CodeRecipe(vulnerability: .crossSiteScripting, language: .javascript, fills: [
            (route: "/search", parameter: "q", textBefore: "No results for", purpose: "tells the user nothing matched their search"),
            (route: "/welcome", parameter: "name", textBefore: "Hello,", purpose: "welcomes a visitor by the name given in the link"),
            (route: "/error", parameter: "from", textBefore: "Could not open", purpose: "shows which page failed to open"),
            (route: "/share", parameter: "title", textBefore: "You are sharing", purpose: "confirms the title of the item being shared"),
        ], task: { f in "an Express route for `\(f.route)` that \(f.purpose) (query parameter `\(f.parameter)`)" },
        insecure: { f in #"""
            const express = require("express");
            const app = express();

            app.get("\#(f.route)", (req, res) => {
              const value = req.query.\#(f.parameter) || "";
              res.send(`<!doctype html><html><body><p>\#(f.textBefore) ${value}</p></body></html>`);
            });

            module.exports = app;
            """# }, secure: { f in #"""
            const express = require("express");
            const app = express();

            const escapeHtml = (s) =>
              String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

            app.get("\#(f.route)", (req, res) => {
              const value = req.query.\#(f.parameter) || "";
              res.send(`<!doctype html><html><body><p>\#(f.textBefore) ${escapeHtml(value)}</p></body></html>`);
            });

            module.exports = app;
            """# }),

        // Input echoed into the DOM (browser).
        CodeRecipe(vulnerability: .crossSiteScripting, language: .javascript, fills: [
            (function: "renderComments", parameter: "comments", authorField: "author", textField: "text", itemsShown: "comment list"),
            (function: "renderReviews", parameter: "reviews", authorField: "reviewer", textField: "body", itemsShown: "product reviews"),
            (function: "renderMessages", parameter: "messages", authorField: "sender", textField: "message", itemsShown: "chat messages"),
        ], task: { f in "a browser function `\(f.function)(container, \(f.parameter))` that shows the \(f.itemsShown) (objects with `\(f.authorField)` and `\(f.textField)`) inside a container element" },
        insecure: { f in #"""
            function \#(f.function)(container, \#(f.parameter)) {
              container.innerHTML = \#(f.parameter)
                .map((item) => `<div class="item"><strong>${item.\#(f.authorField)}</strong><p>${item.\#(f.textField)}</p></div>`)
                .join("");
            }
            """# }, secure: { f in #"""
            function \#(f.function)(container, \#(f.parameter)) {
              container.replaceChildren();
              for (const item of \#(f.parameter)) {
                const div = document.createElement("div");
                div.className = "item";
                const who = document.createElement("strong");
                who.textContent = item.\#(f.authorField);
                const text = document.createElement("p");
                text.textContent = item.\#(f.textField);
                div.append(who, text);
                container.append(div);
              }
            }
            """# }),

        // Password storage.
        CodeRecipe(vulnerability: .weakPasswordHash, language: .javascript, fills: [
            (hashFunction: "hashPassword", checkFunction: "checkPassword"),
            (hashFunction: "makePasswordRecord", checkFunction: "verifyPassword"),
            (hashFunction: "storeSecret", checkFunction: "matchesSecret"),
        ], task: { f in "two Node.js functions, `\(f.hashFunction)(password)` returning a string to store in the users table and `\(f.checkFunction)(password, stored)` checking a login against it" },
        insecure: { f in #"""
            const crypto = require("crypto");

            function \#(f.hashFunction)(password) {
              return crypto.createHash("md5").update(password).digest("hex");
            }

            function \#(f.checkFunction)(password, stored) {
              return \#(f.hashFunction)(password) === stored;
            }

            module.exports = { \#(f.hashFunction), \#(f.checkFunction) };
            """# }, secure: { f in #"""
            const crypto = require("crypto");

            function \#(f.hashFunction)(password) {
              const salt = crypto.randomBytes(16);
              const hash = crypto.scryptSync(password, salt, 64);
              return `${salt.toString("hex")}:${hash.toString("hex")}`;
            }

            function \#(f.checkFunction)(password, stored) {
              const [saltHex, hashHex] = stored.split(":");
              const expected = Buffer.from(hashHex, "hex");
              const actual = crypto.scryptSync(password, Buffer.from(saltHex, "hex"), expected.length);
              return crypto.timingSafeEqual(actual, expected);
            }

            module.exports = { \#(f.hashFunction), \#(f.checkFunction) };
            """# }),

        // eval on client-sent settings.
        CodeRecipe(vulnerability: .evalOfInput, language: .javascript, fills: [
            (function: "parseSettings", parameter: "settings", result: "the widget settings"),
            (function: "parseQuery", parameter: "filter", result: "a search filter object"),
            (function: "parseChartSpec", parameter: "spec", result: "a chart specification"),
            (function: "parseRules", parameter: "rules", result: "the list of routing rules"),
        ], task: { f in "a Node.js function `\(f.function)(text)` that turns the `\(f.parameter)` string a client posts into \(f.result) as an object" },
        insecure: { f in #"""
            function \#(f.function)(text) {
              if (!text) return {};
              return eval("(" + text + ")");
            }

            module.exports = { \#(f.function) };
            """# }, secure: { f in #"""
            function \#(f.function)(text) {
              if (!text) return {};
              const value = JSON.parse(text);
              if (value === null || typeof value !== "object") throw new Error("\#(f.parameter) must be a JSON object");
              return value;
            }

            module.exports = { \#(f.function) };
            """# }),

        // Tokens.
        CodeRecipe(vulnerability: .predictableToken, language: .javascript, fills: [
            (function: "makeResetToken", usedFor: "a password-reset email"),
            (function: "makeSessionId", usedFor: "a login session"),
            (function: "makeInviteCode", usedFor: "an invitation link"),
            (function: "makeApiKey", usedFor: "a new API key"),
        ], task: { f in "a Node.js function `\(f.function)()` that returns a random token for \(f.usedFor)" },
        insecure: { f in #"""
            function \#(f.function)() {
              let token = "";
              while (token.length < 32) {
                token += Math.random().toString(36).slice(2);
              }
              return token.slice(0, 32);
            }

            module.exports = { \#(f.function) };
            """# }, secure: { f in #"""
            const crypto = require("crypto");

            function \#(f.function)() {
              return crypto.randomBytes(24).toString("base64url");
            }

            module.exports = { \#(f.function) };
            """# }),

        // File uploads (multer).
        CodeRecipe(vulnerability: .unrestrictedUpload, language: .javascript, fills: [
            (route: "/upload/avatar", folder: "public/avatars", files: "avatar images"),
            (route: "/upload/resume", folder: "public/resumes", files: "CVs from job applicants"),
            (route: "/upload/receipt", folder: "public/receipts", files: "photos of receipts"),
            (route: "/upload/banner", folder: "public/banners", files: "banner images"),
        ], task: { f in "an Express endpoint `POST \(f.route)` that accepts \(f.files) with multer and stores them in `\(f.folder)`" },
        insecure: { f in #"""
            const express = require("express");
            const multer = require("multer");

            const storage = multer.diskStorage({
              destination: "\#(f.folder)",
              filename: (req, file, cb) => cb(null, file.originalname),
            });
            const upload = multer({ storage });
            const app = express();

            app.post("\#(f.route)", upload.single("file"), (req, res) => {
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
              destination: "\#(f.folder)",
              filename: (req, file, cb) => cb(null, crypto.randomUUID() + path.extname(file.originalname).toLowerCase()),
            });
            const upload = multer({
              storage,
              limits: { fileSize: 5 * 1024 * 1024 },
              fileFilter: (req, file, cb) => cb(null, ALLOWED.has(path.extname(file.originalname).toLowerCase())),
            });
            const app = express();

            app.post("\#(f.route)", upload.single("file"), (req, res) => {
              if (!req.file) return res.status(415).json({ error: "file type not accepted" });
              res.json({ name: req.file.filename });
            });

            module.exports = app;
            """# }),

        // Logging at login.
        CodeRecipe(vulnerability: .secretInLogs, language: .javascript, fills: [
            (route: "/login", verifier: "users"),
            (route: "/api/session", verifier: "accounts"),
            (route: "/auth", verifier: "directory"),
        ], task: { f in "an Express handler for `POST \(f.route)` that checks the posted username and password with `\(f.verifier).verify` and logs every attempt for troubleshooting" },
        insecure: { f in #"""
            const express = require("express");
            const \#(f.verifier) = require("./\#(f.verifier)");

            const app = express();
            app.use(express.json());

            app.post("\#(f.route)", async (req, res) => {
              const { username, password } = req.body;
              const ok = await \#(f.verifier).verify(username, password);
              console.log(`login attempt user=${username} password=${password} ok=${ok}`);
              res.status(ok ? 200 : 401).json({ ok });
            });

            module.exports = app;
            """# }, secure: { f in #"""
            const express = require("express");
            const \#(f.verifier) = require("./\#(f.verifier)");

            const app = express();
            app.use(express.json());

            app.post("\#(f.route)", async (req, res) => {
              const { username, password } = req.body;
              const ok = await \#(f.verifier).verify(username, password);
              console.log(`login attempt user=${JSON.stringify(username)} ok=${ok}`);
              res.status(ok ? 200 : 401).json({ ok });
            });

            module.exports = app;
            """# }),
    ]
}
