# Two commands from a fresh machine (Debian, Python 3.11, root or sudo for apt):
#   make demo   set up, then review a sample case
#   make test   set up, then run the test suite
#   make serve  set up, then start the service (SQLite in ./chartcheck-data)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng chromium

.PHONY: setup system-packages demo serve test clean

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(BIN)/chartcheck: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	@touch $@

setup: system-packages $(BIN)/chartcheck

demo: setup
	$(BIN)/chartcheck review sample_notes/dev/d01/*.pdf --request-type initial

serve: setup
	$(BIN)/chartcheck serve

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
