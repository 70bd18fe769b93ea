# Caisse — les commandes du quotidien. Seuls Python 3.11+ et make sont nécessaires.
.DELETE_ON_ERROR:
.PHONY: help venv demo serve test test-sqlite test-postgres quality fix bench clean

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2

help: ## Affiche cette aide
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/caisse: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || (echo "Python 3.11 ou plus est nécessaire." >&2; exit 1)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	@touch $@

venv: $(BIN)/caisse ## Crée l'environnement virtuel (.venv) depuis le fichier de verrouillage

demo: venv ## Construit une caisse de démonstration (~20 000 personnes), affiche les comptes et la sert
	$(BIN)/caisse demo

serve: venv ## Sert le back-office sur http://127.0.0.1:8000
	$(BIN)/caisse serve

test: venv ## Lance toute la suite de tests (SQLite, puis PostgreSQL s'il répond)
	@bash scripts/run-tests.sh

quality: venv ## Ruff, mypy (cœur de calcul), yamllint (paramètres), migrations à jour
	$(BIN)/ruff check caisse bench
	$(BIN)/mypy
	$(BIN)/yamllint -c .yamllint caisse/rules/parameters
	$(BIN)/python -m django makemigrations --check --dry-run --settings=caisse.config.settings

fix: venv ## Corrige ce que ruff sait corriger
	$(BIN)/ruff check --fix caisse bench

bench: venv ## Mesure le débit de chaque moteur
	@bash scripts/run-benchmarks.sh

clean: ## Supprime l'environnement et les fichiers produits
	rm -rf $(VENV) var caisse.sqlite3 caisse.sqlite3-*
