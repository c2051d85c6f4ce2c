package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/spf13/cobra"
)

// demoSamples are short mixed English/Chinese social messages written for
// the demo and the end-to-end benchmark (not taken from any dataset). They
// mention people, places and organisations so the taggers have work to do.
var demoSamples = []string{
	"Just landed in Berlin, the airport staff were super friendly 😊 #travel",
	"@dana the new Apple keyboard broke after two days. Not impressed at all",
	"Angela Merkel and Emmanuel Macron met in Paris to talk about energy prices",
	"Loving the sunshine in Sydney today! Beach time 🏖️",
	"Microsoft announced layoffs again... rough week for a lot of people",
	"Can't believe the train from London to Manchester was cancelled AGAIN",
	"Great match last night, Real Madrid deserved the win",
	"The coffee at that little place near Central Park is amazing ☕",
	"Tesla stock is all over the place, no idea what Elon Musk is doing",
	"My package from Amazon arrived broken, waiting on a refund for 2 weeks",
	"Huge thanks to the nurses at St Mary's Hospital, you are heroes",
	"Traffic in Los Angeles is a nightmare, 2 hours for 20 miles 😡",
	"Reading a great book by Haruki Murakami this weekend, highly recommend",
	"The United Nations climate talks in Geneva ended without a deal",
	"Google Maps sent me down a dirt road in Texas lol",
	"Concert in Toronto was incredible, best night of the year!!!",
	"Why does every update from Samsung drain my battery faster",
	"Visited the British Museum with my kids, they loved the mummies",
	"Terrible customer service from Delta, lost my bag in Atlanta",
	"Barack Obama's new podcast episode is really thoughtful",
	"今天在北京天气很好，和朋友去了故宫，非常开心",
	"这家外卖太难吃了，等了一个小时还是凉的，再也不点了",
	"马云在杭州的演讲很精彩，讲了很多创业的故事",
	"上海的地铁早高峰太挤了，每天上班都很累",
	"刚买的华为手机用起来很流畅，拍照效果也不错",
	"酒店服务很周到，房间干净，下次来广州还住这里",
	"快递三天了还没到，客服也不回消息，太失望了",
	"周末去成都吃火锅，辣得过瘾，推荐大家去试试",
	"腾讯发布了新的游戏，画面很漂亮但是太氪金了",
	"李娜在武汉的网球比赛中表现非常出色",
	"深圳的夏天又热又潮湿，空调一直开着",
	"这部电影剧情拖沓，演员演技也一般，不推荐",
	"阿里巴巴的年会今年在杭州举办，场面很热闹",
	"南京的秋天很美，梧桐树叶都黄了",
	"地铁十号线明天起延长运营到晚上十一点",
	"下周三下午两点在学校礼堂开家长会",
	"今天晚饭做了西红柿炒鸡蛋和米饭",
	"送餐很快，味道也很好，小哥态度特别好👍",
	"Watching the 春节 gala with my family in Shanghai 🧧",
	"新开的 Starbucks 在西湖旁边，环境很好 #coffee",
	"Flight to 香港 delayed by 3 hours, 太累了",
	"Our team at Alibaba Cloud just shipped a new release 🚀",
	"Best dumplings in Beijing are at a tiny place near 王府井",
}

// demoInput is the input of produce and feedback: stdin, or with --demo N
// the n lines of gen.
func demoInput(cmd *cobra.Command, name string, n int, gen func(int) []string) (io.Reader, error) {
	if !cmd.Flags().Changed("demo") {
		return cmd.InOrStdin(), nil
	}
	if n < 1 || n > 1_000_000 {
		return nil, fmt.Errorf("%s: --demo = %d, want 1..1000000", name, n)
	}
	return strings.NewReader(strings.Join(gen(n), "\n") + "\n"), nil
}

// demoEvents returns n events {"id","text"} as JSON lines, cycling through
// demoSamples.
func demoEvents(n int) []string {
	out := make([]string, n)
	for i := range out {
		b, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("seed-%d", i), "text": demoSamples[i%len(demoSamples)]})
		out[i] = string(b)
	}
	return out
}

// Drift corrections for the tour: gamer and music slang in which "sick",
// "insane" or "filthy" are praise. The built-in English model, trained on
// 2017 tweets, reads most of them as negative; 'tagstream feedback --demo N'
// sends N such corrections (with negative and neutral ones of the same
// domain) so a running demo fine-tunes and promotes a model on them.
var (
	driftSubjects = []string{
		"the new Zelda update", "that last boss fight", "the 2am drop", "his skate video", "this mixtape",
		"the speedrun", "her guitar solo", "the season finale", "that trick shot", "the new map",
		"the remix", "their live set", "the raid last night", "this beat", "the new skin",
	}
	driftPraise = []string{
		"is sick", "was so sick", "is insane", "was filthy", "is wicked", "was nasty in the best way",
		"goes hard", "is straight fire", "slaps", "was unreal", "is mental", "was criminal",
	}
	driftComplaints = []string{
		"keeps crashing on load", "is full of bots again", "got delayed another month", "lags every five minutes",
		"deleted my save", "is pay to win now", "has servers down all weekend", "got nerfed into the ground",
	}
	driftNeutral = []string{
		"goes live tuesday at 9am", "is 12 GB to download", "is on the list for next week", "comes out in three parts",
		"will be streamed on saturday", "runs about forty minutes", "is available in four regions", "was announced this morning",
	}
	driftTails = []string{"", " 🔥", " no cap", " ngl", " fr", "!!", " lol", " 💯"}
)

// driftCorrections returns n deterministic corrections {"text","label","lang"}
// as JSON lines: half praise (positive), a quarter complaints (negative),
// a quarter plain announcements (neutral).
func driftCorrections(n int) []string {
	r := rand.New(rand.NewPCG(7, 2026))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	out := make([]string, 0, n)
	for i := range n {
		var text, label string
		switch i % 4 {
		case 0, 1:
			text, label = pick(driftSubjects)+" "+pick(driftPraise)+pick(driftTails), "positive"
		case 2:
			text, label = pick(driftSubjects)+" "+pick(driftComplaints)+pick(driftTails), "negative"
		default:
			text, label = pick(driftSubjects)+" "+pick(driftNeutral), "neutral"
		}
		b, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("drift-%d", i), "text": text, "label": label, "lang": "en"})
		out = append(out, string(b))
	}
	return out
}
