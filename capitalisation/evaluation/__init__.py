"""Treatment versus control: the evaluator's comparison engine.

* `statistiques` — pure functions: Wilson and Newcombe intervals, risk ratio, Fisher's
  exact test, Welch, standardised differences, effective sample size, power,
  Kaplan-Meier, log-rank, Cox.
* `modeles` — logit average marginal effect, adjusted OLS, propensity score and IPW for
  the ATT (M-estimation), difference-in-differences with two-way fixed effects.
* `moteur` — the comparison of one cohort table as tidy DataFrames with warnings.
* `entrepot` — `evaluer_entrepot(con)`: the marts in, fct_comparaisons, fct_equilibre,
  fct_trajectoires and fct_survie out.
* `graphiques` — forest plot, love plot, debt trajectories, Kaplan-Meier curves.
* `commande` — `capitalisation comparer` on a CSV or Parquet cohort table.
* `simulation` — coverage study of the 95 % intervals.
"""
