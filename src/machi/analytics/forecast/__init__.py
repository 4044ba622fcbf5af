"""来庁者数予測: daily and hourly visit forecasts, their backtest and a staffing suggestion."""
