"""Treatment versus control: the evaluator's comparison engine.

* `statistiques` — pure functions: Wilson, Newcombe and Miettinen-Nurminen intervals, risk
  ratio, Fisher's exact test, Welch, standardised differences, effective sample size, power,
  Kaplan-Meier, log-rank, Cox.
* `inference` — separation by linear programming, wild cluster bootstrap, randomisation
  inference, exact power of Fisher's and Welch's tests, E-values, Holm.
* `modeles` — logit average marginal effect, adjusted OLS (HC3, t), propensity score, IPW
  (ATT or ATE, M-estimation) and the doubly robust weighted regression,
  difference-in-differences with two-way fixed effects.
* `moteur` — the comparison of one cohort table as tidy DataFrames with warnings.
* `entrepot` — `evaluer_entrepot(con)`: the marts in, fct_comparaisons, fct_equilibre,
  fct_trajectoires and fct_survie out.
* `graphiques` — forest plot, love plot, propensity overlap, debt trajectories, Kaplan-Meier curves.
* `commande` — `capitalisation comparer` on a CSV, XLSX or Parquet cohort table.
* `simulation` — coverage study of the 95 % intervals on 25-versus-25 designs (`make bench`).
"""
