MLFLOW_USER = "mlflow.user"
