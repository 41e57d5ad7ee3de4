#!/usr/bin/env bash
# Install the headless browser the cockpit's browser test drives: Chromium and its WebDriver
# from the operating system's packages (Debian: chromium, chromium-driver). Nothing is
# downloaded at test time; selenium is pointed at /usr/bin/chromedriver.
#
# Does nothing when both are there. Installs with apt-get when running as root on a system
# with apt (CI, a container); otherwise says what to install and fails.
set -euo pipefail

BROWSER=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

if [ -x "$BROWSER" ] && [ -x "$DRIVER" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: $BROWSER and $DRIVER are needed by the browser test;" \
        "install them as root: apt-get install -y chromium chromium-driver" >&2
    exit 1
fi
echo "install-browser: installing chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
test -x "$BROWSER" && test -x "$DRIVER"
"$DRIVER" --version
