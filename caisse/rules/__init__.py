"""Pure calculation core of Caisse: dated legal parameters and the engines that use them.

Nothing in this package imports Django: the batch commands, the Spark runner and the
persistent (Django) path all call the same functions.
"""
