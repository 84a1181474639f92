# Two commands for a fresh machine (Python 3.11+):
#   make demo   - install into .venv and run the live demo show on the embedded default
#   make test   - install into .venv and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench messages serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# make demo PORT=8100 (or CONTROLROOM_PORT=8100 in the environment) serves on that port.
DEMO_PORT = $(or $(PORT),$(CONTROLROOM_PORT))
demo: $(STAMP)
	$(BIN)/controlroom demo $(if $(DEMO_PORT),--port $(DEMO_PORT))

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/isolation.py
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/matcher.py
	$(BIN)/python bench/matcher_quality.py
	$(BIN)/python bench/alerts.py
	$(BIN)/python bench/review.py
	$(BIN)/python bench/rooms.py

# Re-extract UI strings after changing templates or code, then translate the new
# entries in controlroom/i18n/locales/*/LC_MESSAGES/messages.po.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o controlroom/i18n/messages.pot --no-location --omit-header \
		-k ActionRefused -k RunRefused -k AlertActionRefused -k MessageRefused -k InvalidTransition -k Refusal -k Forbidden -k NoRecording -k ItemRefused -k ChannelRefused .
	$(BIN)/pybabel update -i controlroom/i18n/messages.pot -d controlroom/i18n/locales --omit-header --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) var build *.egg-info
