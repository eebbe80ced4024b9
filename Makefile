# Chaîne de capitalisation « 10 000 logements HLM accompagnés ».
# `make demo` et `make test` installent tout ce qu'il faut la première fois.

VENV    := .venv
PYTHON  := $(VENV)/bin/python
CLI     := $(VENV)/bin/capitalisation
INSTALL := $(VENV)/.installe
VENV_SPARK    := .venv-spark
INSTALL_SPARK := $(VENV_SPARK)/.installe
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.DEFAULT_GOAL := help
.PHONY: help installer demo test spark bench lint clean

help: ## Affiche cette aide
	@grep -hE '^[a-z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(INSTALL): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	touch $(INSTALL)

installer: $(INSTALL) ## Crée l'environnement virtuel .venv et installe les dépendances

# The demo has its own folders (parametres.toml, [demo]): never exports/, the real deliveries.
DEMO_EXPORTS  := demo/exports
DEMO_ENTREPOT := demo/warehouse/capitalisation.duckdb

demo: $(INSTALL) ## Écrit les livraisons de démonstration dans demo/ et y exécute toute la chaîne
	$(CLI) demo --exports $(DEMO_EXPORTS)
	$(CLI) run --exports $(DEMO_EXPORTS) --warehouse $(DEMO_ENTREPOT)

test: $(INSTALL) ## Installe (paquets système compris) puis lance toute la suite de tests
	.ci/paquets-systeme
	$(VENV)/bin/pytest -n 2 --dist loadfile

$(INSTALL_SPARK): pyproject.toml
	python3 -m venv $(VENV_SPARK)
	$(VENV_SPARK)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_SPARK)/bin/python -m pip install --quiet -e '.[spark]'
	touch $(INSTALL_SPARK)

spark: ## Construit la démonstration sur Spark local (Java, dbt-spark) et compare chaque table à DuckDB
	.ci/paquets-systeme spark
	$(MAKE) --no-print-directory $(INSTALL_SPARK)
	timeout --signal=INT --kill-after=60 40m $(VENV_SPARK)/bin/python -m capitalisation.spark

bench: $(INSTALL) ## Mesure temps et mémoire par étape (10 000 à 1 000 000 ménages) et la couverture des intervalles
	$(CLI) bench $(if $(MENAGES),--menages $(MENAGES),)
	$(PYTHON) -m capitalisation.evaluation.simulation

lint: $(INSTALL) ## Vérifie le style du code Python
	$(VENV)/bin/ruff check capitalisation tests

# Never a delivery: exports/ (real deliveries), quarantaine/ (refused ones) and the demo's
# deliveries stay; only what a run rebuilds goes.
clean: ## Supprime les produits de construction (entrepôts, site) ; jamais une livraison
	rm -rf warehouse demo/warehouse target logs reports/_site reports/.quarto
