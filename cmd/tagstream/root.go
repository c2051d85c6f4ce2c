package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "tagstream",
		Short:         "Label live text streams with small LSTM classifiers and taggers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("config", "", "YAML config file (environment TAGSTREAM_* and flags override it)")
	train := &cobra.Command{Use: "train", Short: "Train a model"}
	train.AddCommand(newTrainClassifierCmd(), newTrainNERCmd())
	root.AddCommand(train, newEvalCmd(), newPredictCmd(), newConfigCmd(), newProduceCmd(), newTailCmd(), newRunCmd(), newBenchCmd(), newDemoCmd(), newFeedbackCmd(), newModelCmd(), newTrainerCmd(), newHealthcheckCmd(), newQuantizeCmd(), newPretrainCmd(), newGenerateCmd())
	return root
}
